package api

import (
	"fmt"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// sampleOffersEvent is an OFFERS event shaped like a real one: n offers,
// each with cpus, mem, disk, ports, an attribute and the agent URL.
func sampleOffersEvent(n int) *schedulerpb.Event {
	scalar := func(name string, v float64) *mesospb.Resource {
		return &mesospb.Resource{Name: proto.String(name), Type: mesospb.Value_SCALAR.Enum(),
			Scalar: &mesospb.Value_Scalar{Value: proto.Float64(v)}}
	}
	ev := &schedulerpb.Event{Type: schedulerpb.Event_OFFERS.Enum(), Offers: &schedulerpb.Event_Offers{}}
	for i := range n {
		host := fmt.Sprintf("agent-%d.cluster.local", i)
		ev.Offers.Offers = append(ev.Offers.Offers, &mesospb.Offer{
			Id:          &mesospb.OfferID{Value: proto.String(fmt.Sprintf("5b7c3f6c-1d2e-4f5a-9b8c-7d6e5f4a3b2c-O%d", i))},
			FrameworkId: &mesospb.FrameworkID{Value: proto.String("5b7c3f6c-1d2e-4f5a-9b8c-7d6e5f4a3b2c-0000")},
			AgentId:     &mesospb.AgentID{Value: proto.String(fmt.Sprintf("5b7c3f6c-1d2e-4f5a-9b8c-7d6e5f4a3b2c-S%d", i))},
			Hostname:    proto.String(host),
			Url: &mesospb.URL{Scheme: proto.String("http"), Path: proto.String("/slave(1)"),
				Address: &mesospb.Address{Hostname: proto.String(host), Ip: proto.String("10.1.0.7"), Port: proto.Int32(5051)}},
			Resources: []*mesospb.Resource{
				scalar("cpus", 7.5), scalar("mem", 30720), scalar("disk", 409600),
				{Name: proto.String("ports"), Type: mesospb.Value_RANGES.Enum(), Ranges: &mesospb.Value_Ranges{
					Range: []*mesospb.Value_Range{{Begin: proto.Uint64(31000), End: proto.Uint64(31999)},
						{Begin: proto.Uint64(32001), End: proto.Uint64(32000 + uint64(i))}}}},
			},
			Attributes: []*mesospb.Attribute{{Name: proto.String("rack"), Type: mesospb.Value_TEXT.Enum(),
				Text: &mesospb.Value_Text{Value: proto.String("r7")}}},
		})
	}
	return ev
}

func BenchmarkJSONMarshalEvent(b *testing.B) {
	ev := sampleOffersEvent(10)
	buf, _ := JSON.Marshal(ev)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = JSON.Append(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONUnmarshalEvent(b *testing.B) {
	buf, err := JSON.Marshal(sampleOffersEvent(10))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var ev schedulerpb.Event
	for b.Loop() {
		if err := JSON.Unmarshal(buf, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProtobufMarshalEvent(b *testing.B) {
	ev := sampleOffersEvent(10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Protobuf.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}
