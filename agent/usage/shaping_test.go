package usage

import (
	"encoding/json"
	"testing"

	"github.com/cairnhq/cairn/ids"
)

type fakeShaping map[ids.ContainerID]Shaping

func (f fakeShaping) Shaping([]Target) (map[ids.ContainerID]Shaping, error) { return f, nil }

// TestShapingInSamples: a shaped container's sample carries its limits and
// classes, with the classes' rates derived from the previous sample; the
// JSON and the protobuf say them in Mesos's names.
func TestShapingInSamples(t *testing.T) {
	f := newFakeSources()
	f.counters["c1"] = Counters{}
	f.counters["c2"] = Counters{}
	src := f.sources()
	class := func(bytes, packets uint64) Shaping {
		return Shaping{TxRateLimit: 2_500_000, Classes: []TrafficClass{{ID: "egress", Bytes: bytes, Packets: packets, Drops: 1, Overlimits: 9}}}
	}
	s := NewStore(0)
	targets := []Target{target("c1", 1), target("c2", 2)}
	src.Shaping = fakeShaping{"c1": class(1000, 10)}
	s.Apply(at(0), Read(src, targets))
	src.Shaping = fakeShaping{"c1": class(3_001_000, 2010)}
	s.Apply(at(2), Read(src, targets))

	v, _ := s.Get("c1")
	st := v.Latest.Statistics()
	if st.NetTxRateLimit == nil || *st.NetTxRateLimit != 2_500_000 || st.NetRxRateLimit != nil {
		t.Fatalf("rate limits %v %v", st.NetTxRateLimit, st.NetRxRateLimit)
	}
	want := TrafficControlStatistics{ID: "egress", Bytes: 3_001_000, Packets: 2010, Drops: 1, Overlimits: 9, RateBps: 1_500_000, RatePps: 1000}
	if len(st.NetTrafficControlStatistics) != 1 || st.NetTrafficControlStatistics[0] != want {
		t.Fatalf("classes %+v, want %+v", st.NetTrafficControlStatistics, want)
	}
	p := v.Latest.Proto().GetNetTrafficControlStatistics()
	if len(p) != 1 || p[0].GetId() != "egress" || p[0].GetRatebps() != 1_500_000 || p[0].GetDrops() != 1 {
		t.Fatalf("proto %v", p)
	}
	if pr := v.Latest.Proto(); pr.GetNetTxRateLimit() != 2_500_000 || pr.NetRxRateLimit != nil {
		t.Fatalf("proto rate limits %v %v", pr.NetTxRateLimit, pr.NetRxRateLimit)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Latest.AppendJSON(nil); string(got) != string(js) {
		t.Fatalf("AppendJSON\n got %s\nwant %s", got, js)
	}

	u, _ := s.Get("c2")
	if u.Latest.Shaped || u.Latest.Statistics().NetTxRateLimit != nil {
		t.Fatalf("unshaped container shows shaping: %+v", u.Latest.Statistics())
	}
}
