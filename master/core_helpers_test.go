package master

import (
	"fmt"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Unix(1_800_000_000, 0)

// testCore is a core with the real (pure) allocator and a registry in a
// temporary directory; uuids are a counter.
func testCore(t *testing.T) *core {
	t.Helper()
	reg, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	alloc, err := allocator.New(allocator.Config{AllocationInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{HeartbeatInterval: 15 * time.Second, MaxCompletedFrameworks: 50, MaxCompletedTasksPerFramework: 1000}
	c := newCore(slog.New(slog.DiscardHandler), "m", alloc, reg, cfg)
	n := 0
	c.newUUID = func() []byte {
		n++
		return []byte(fmt.Sprintf("uuid-%011d", n))
	}
	c.setInfo(netip.MustParseAddr("10.0.0.1"), 5050, "master-host")
	return c
}

func fwInfo(caps ...mesospb.FrameworkInfo_Capability_Type) *mesospb.FrameworkInfo {
	info := &mesospb.FrameworkInfo{User: proto.String("alice"), Name: proto.String("test")}
	for _, c := range caps {
		info.Capabilities = append(info.Capabilities, &mesospb.FrameworkInfo_Capability{Type: c.Enum()})
	}
	return info
}

func subscribeCall(info *mesospb.FrameworkInfo) *schedulerpb.Call {
	call := &schedulerpb.Call{
		Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: info},
	}
	if info.GetId() != nil {
		call.FrameworkId = info.GetId()
	}
	return call
}

// subscribe registers a framework on stream and returns its id, checking
// that SUBSCRIBED came first.
func subscribe(t *testing.T, c *core, stream string, info *mesospb.FrameworkInfo) ids.FrameworkID {
	t.Helper()
	id, err := c.Subscribe(subscribeCall(info), stream, t0)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	evs := events(c.take(), stream)
	if len(evs) == 0 || evs[0].GetType() != schedulerpb.Event_SUBSCRIBED {
		t.Fatalf("first event = %v, want SUBSCRIBED", evs)
	}
	return id
}

// admit adds an agent with res and returns its id.
func admit(t *testing.T, c *core, name, res string) ids.AgentID {
	t.Helper()
	st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{
		Hostname: proto.String(name), Resources: toProto(resources.MustParse(res), ""),
	}}
	id, err := c.AdmitAgent(st, netip.MustParseAddrPort("10.0.0.2:5051"), "10.0.0.2:5056", "agent@"+name, t0)
	if err != nil {
		t.Fatalf("admit: %v", err)
	}
	c.take()
	return id
}

// events filters the sendEvent effects for stream.
func events(effects []any, stream string) []*schedulerpb.Event {
	var out []*schedulerpb.Event
	for _, e := range effects {
		if s, ok := e.(sendEvent); ok && s.Stream == stream {
			out = append(out, s.Event)
		}
	}
	return out
}

func agentMsgs(effects []any, path string) []proto.Message {
	var out []proto.Message
	for _, e := range effects {
		if a, ok := e.(toAgent); ok && a.Path == path {
			out = append(out, a.Msg)
		}
	}
	return out
}

func updates(evs []*schedulerpb.Event) []*mesospb.TaskStatus {
	var out []*mesospb.TaskStatus
	for _, ev := range evs {
		if ev.GetType() == schedulerpb.Event_UPDATE {
			out = append(out, ev.GetUpdate().GetStatus())
		}
	}
	return out
}

// offersFor allocates and returns the offers sent on stream.
func offersFor(t *testing.T, c *core, stream string) []*mesospb.Offer {
	t.Helper()
	c.Allocate(t0)
	var out []*mesospb.Offer
	for _, ev := range events(c.take(), stream) {
		if ev.GetType() == schedulerpb.Event_OFFERS {
			out = append(out, ev.GetOffers().GetOffers()...)
		}
	}
	return out
}

func call(fid ids.FrameworkID, typ schedulerpb.Call_Type) *schedulerpb.Call {
	return &schedulerpb.Call{FrameworkId: frameworkIDpb(fid), Type: typ.Enum()}
}

func command(tid string, agent *mesospb.AgentID, res string) *mesospb.TaskInfo {
	return &mesospb.TaskInfo{
		Name: proto.String(tid), TaskId: &mesospb.TaskID{Value: proto.String(tid)}, AgentId: agent,
		Resources: toProto(resources.MustParse(res), ""),
		Command:   &mesospb.CommandInfo{Value: proto.String("true")},
	}
}

func acceptCall(fid ids.FrameworkID, offers []*mesospb.OfferID, tasks ...*mesospb.TaskInfo) *schedulerpb.Call {
	cl := call(fid, schedulerpb.Call_ACCEPT)
	cl.Accept = &schedulerpb.Call_Accept{OfferIds: offers, Operations: []*mesospb.Offer_Operation{{
		Type: mesospb.Offer_Operation_LAUNCH.Enum(), Launch: &mesospb.Offer_Operation_Launch{TaskInfos: tasks},
	}}}
	return cl
}

func mustCall(t *testing.T, c *core, cl *schedulerpb.Call, stream string) {
	t.Helper()
	if err := c.Call(cl, stream, t0); err != nil {
		t.Fatalf("%s: %v", cl.GetType(), err)
	}
}

func mustParse(s string) resources.Resources { return resources.MustParse(s) }

func mustAddr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
