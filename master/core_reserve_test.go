package master

import (
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func roleInfo(role string) *mesospb.FrameworkInfo {
	info := fwInfo()
	info.Role = proto.String(role)
	return info
}

func reserveOp(id, res string) *mesospb.Offer_Operation {
	op := &mesospb.Offer_Operation{Type: mesospb.Offer_Operation_RESERVE.Enum(),
		Reserve: &mesospb.Offer_Operation_Reserve{Resources: toProto(mustParse(res), "")}}
	if id != "" {
		op.Id = &mesospb.OperationID{Value: proto.String(id)}
	}
	return op
}

func unreserveOp(id, res string) *mesospb.Offer_Operation {
	op := reserveOp(id, res)
	op.Type = mesospb.Offer_Operation_UNRESERVE.Enum()
	op.Unreserve = &mesospb.Offer_Operation_Unreserve{Resources: op.Reserve.Resources}
	op.Reserve = nil
	return op
}

func launchOp(tasks ...*mesospb.TaskInfo) *mesospb.Offer_Operation {
	return &mesospb.Offer_Operation{Type: mesospb.Offer_Operation_LAUNCH.Enum(),
		Launch: &mesospb.Offer_Operation_Launch{TaskInfos: tasks}}
}

// acceptOps accepts offer o with ops (refusing the rest for 0 s, so the
// next allocation offers it again) and returns the effects.
func acceptOps(t *testing.T, c *core, fid ids.FrameworkID, stream string, o *mesospb.Offer, ops ...*mesospb.Offer_Operation) []any {
	t.Helper()
	cl := call(fid, schedulerpb.Call_ACCEPT)
	cl.Accept = &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{o.GetId()}, Operations: ops,
		Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(0)}}
	mustCall(t, c, cl, stream)
	return c.take()
}

func opStatuses(evs []*schedulerpb.Event) map[string]*mesospb.OperationStatus {
	out := map[string]*mesospb.OperationStatus{}
	for _, ev := range evs {
		if ev.GetType() == schedulerpb.Event_UPDATE_OPERATION_STATUS {
			st := ev.GetUpdateOperationStatus().GetStatus()
			out[st.GetOperationId().GetValue()] = st
		}
	}
	return out
}

func offerRes(t *testing.T, offers []*mesospb.Offer) resources.Resources {
	t.Helper()
	var out resources.Resources
	for _, o := range offers {
		r, err := fromProto(o.GetResources())
		if err != nil {
			t.Fatal(err)
		}
		out = out.Add(r)
	}
	return out
}

func lastCheckpoint(t *testing.T, effects []any) resources.Resources {
	t.Helper()
	msgs := agentMsgs(effects, "checkpoint_resources")
	if len(msgs) == 0 {
		t.Fatal("no checkpoint_resources sent")
	}
	r, err := fromProto(msgs[len(msgs)-1].(*internalpb.CheckpointResources).GetResources())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A RESERVE in ACCEPT converts the offer for the LAUNCH after it, the agent
// is sent its new checkpointed resources, and the next offers show the
// reservation to its role only.
func TestAcceptReserveThenLaunch(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024;disk:1000")
	eng := subscribe(t, c, "s-eng", roleInfo("eng"))
	offers := offersFor(t, c, "s-eng")
	if len(offers) != 1 {
		t.Fatalf("offers = %v", offers)
	}
	task := command("t1", offers[0].GetAgentId(), "cpus(eng,dynamic):1;mem(eng,dynamic):128")
	eff := acceptOps(t, c, eng, "s-eng", offers[0], reserveOp("r1", "cpus(eng,dynamic):2;mem(eng,dynamic):256"), launchOp(task))

	st := opStatuses(events(eff, "s-eng"))["r1"]
	if st.GetState() != mesospb.OperationState_OPERATION_FINISHED || st.GetAgentId().GetValue() != string(aid) {
		t.Errorf("r1 status = %v", st)
	}
	if us := updates(events(eff, "s-eng")); len(us) != 0 {
		t.Errorf("task updates = %v, want none (launched)", us)
	}
	if len(agentMsgs(eff, "run_tasks")) != 1 {
		t.Errorf("run_tasks not sent")
	}
	if got, want := lastCheckpoint(t, eff), mustParse("cpus(eng,dynamic):2;mem(eng,dynamic):256"); !got.Equal(want) {
		t.Errorf("checkpointed %s, want %s", got, want)
	}
	if want := mustParse("cpus:2;mem:768;disk:1000;cpus(eng,dynamic):2;mem(eng,dynamic):256"); !c.agents[aid].total.Equal(want) {
		t.Errorf("agent total %s, want %s", c.agents[aid].total, want)
	}

	// The rest of the reservation comes back to eng, typed DYNAMIC.
	again := offersFor(t, c, "s-eng")
	if got, want := offerRes(t, again), mustParse("cpus:2;mem:768;disk:1000;cpus(eng,dynamic):1;mem(eng,dynamic):128"); !got.Equal(want) {
		t.Errorf("next offer %s, want %s", got, want)
	}
	dynamic := false
	for _, r := range again[0].GetResources() {
		if r.GetRole() == "eng" && len(r.GetReservations()) == 1 &&
			r.GetReservations()[0].GetType() == mesospb.Resource_ReservationInfo_DYNAMIC {
			dynamic = true
		}
	}
	if !dynamic {
		t.Errorf("offer does not mark the reservation DYNAMIC: %v", again[0].GetResources())
	}

	// Another role never sees it.
	acceptOps(t, c, eng, "s-eng", again[0]) // decline, refuse 0 s
	cl := call(eng, schedulerpb.Call_SUPPRESS)
	mustCall(t, c, cl, "s-eng")
	subscribe(t, c, "s-web", roleInfo("web"))
	web := offersFor(t, c, "s-web")
	if got := offerRes(t, web); got.HasReserved() || got.IsEmpty() {
		t.Errorf("role web offered %s", got)
	}
}

// Invalid operations are dropped one by one, with OPERATION_ERROR for
// those with an id; the valid ones of the same ACCEPT still apply.
func TestAcceptInvalidResourceOps(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024;disk:1000;cpus(eng):1")
	info := roleInfo("eng")
	info.Principal = proto.String("alice")
	eng := subscribe(t, c, "s", info)
	o := offersFor(t, c, "s")[0]
	static := toProto(mustParse("cpus(eng):1"), "")
	ops := []*mesospb.Offer_Operation{
		reserveOp("other-role", "cpus(web,dynamic):1"),
		reserveOp("too-much", "cpus(eng,dynamic):8"),
		{Type: mesospb.Offer_Operation_RESERVE.Enum(), Id: &mesospb.OperationID{Value: proto.String("static")},
			Reserve: &mesospb.Offer_Operation_Reserve{Resources: static}},
		unreserveOp("unreserve-static", "cpus(eng):1"),
		unreserveOp("", "mem(eng,dynamic):10"), // no id: dropped silently
		reserveOp("ok", "cpus(eng,dynamic):1"),
		volumeOp(mesospb.Offer_Operation_CREATE, "vol-unreserved", volume("v1", "disk:10", "data")),
		launchOp(command("t1", o.GetAgentId(), "cpus(eng,dynamic):1;mem:64")),
	}
	ops[3].Unreserve.Resources = static
	labeled := reserveOp("labels", "cpus(eng,dynamic):1")
	labeled.Reserve.Resources[0].Reservations[0].Labels = &mesospb.Labels{Labels: []*mesospb.Label{{Key: proto.String("k")}}}
	principal := reserveOp("principal", "cpus(eng,dynamic):1")
	principal.Reserve.Resources[0].Reservations[0].Principal = proto.String("mallory")
	ops = append([]*mesospb.Offer_Operation{labeled, principal}, ops...)
	eff := acceptOps(t, c, eng, "s", o, ops...)
	sts := opStatuses(events(eff, "s"))
	for _, id := range []string{"labels", "principal", "other-role", "too-much", "static", "unreserve-static", "vol-unreserved"} {
		if sts[id].GetState() != mesospb.OperationState_OPERATION_ERROR || sts[id].GetMessage() == "" || sts[id].AgentId != nil {
			t.Errorf("%s: status %v, want OPERATION_ERROR with a message", id, sts[id])
		}
	}
	if sts["ok"].GetState() != mesospb.OperationState_OPERATION_FINISHED || len(sts) != 8 {
		t.Errorf("statuses = %v", sts)
	}
	if us := updates(events(eff, "s")); len(us) != 0 {
		t.Errorf("task updates = %v, want none: the launch uses the valid reservation", us)
	}
	if want := mustParse("cpus:3;mem:1024;disk:1000;cpus(eng):1;cpus(eng,dynamic):1"); !c.agents[aid].total.Equal(want) {
		t.Errorf("total %s, want %s", c.agents[aid].total, want)
	}
}

// Invalid offers drop every resource operation.
func TestAcceptResourceOpsWithInvalidOffer(t *testing.T) {
	c := testCore(t)
	admit(t, c, "a1", "cpus:4;mem:1024")
	eng := subscribe(t, c, "s", roleInfo("eng"))
	o := offersFor(t, c, "s")[0]
	o.Id = &mesospb.OfferID{Value: proto.String("no-such-offer")}
	eff := acceptOps(t, c, eng, "s", o, reserveOp("r", "cpus(eng,dynamic):1"))
	st := opStatuses(events(eff, "s"))["r"]
	if st.GetState() != mesospb.OperationState_OPERATION_ERROR || !strings.Contains(st.GetMessage(), "invalid offers") {
		t.Errorf("status = %v", st)
	}
	if len(agentMsgs(eff, "checkpoint_resources")) != 0 {
		t.Error("checkpoint sent for a dropped operation")
	}
}

// UNRESERVE gives the resources back to everyone.
func TestAcceptUnreserve(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024")
	eng := subscribe(t, c, "s", roleInfo("eng"))
	acceptOps(t, c, eng, "s", offersFor(t, c, "s")[0], reserveOp("", "cpus(eng,dynamic):3"))
	o := offersFor(t, c, "s")[0]
	eff := acceptOps(t, c, eng, "s", o, unreserveOp("u", "cpus(eng,dynamic):2"))
	if st := opStatuses(events(eff, "s"))["u"]; st.GetState() != mesospb.OperationState_OPERATION_FINISHED {
		t.Fatalf("status = %v", st)
	}
	if got, want := lastCheckpoint(t, eff), mustParse("cpus(eng,dynamic):1"); !got.Equal(want) {
		t.Errorf("checkpointed %s, want %s", got, want)
	}
	if want := mustParse("cpus:3;mem:1024;cpus(eng,dynamic):1"); !c.agents[aid].total.Equal(want) {
		t.Errorf("total %s, want %s", c.agents[aid].total, want)
	}
}

// A MULTI_ROLE framework names the role of an operation's resources with
// allocation_info; without it the operation is dropped.
func TestAcceptReserveMultiRole(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024")
	info := fwInfo(mesospb.FrameworkInfo_Capability_MULTI_ROLE)
	info.Roles = []string{"eng"}
	fid := subscribe(t, c, "s", info)
	o := offersFor(t, c, "s")[0]
	if o.GetAllocationInfo().GetRole() != "eng" {
		t.Fatalf("offer allocation = %v", o.GetAllocationInfo())
	}
	bare := reserveOp("bare", "cpus(eng,dynamic):1")
	tagged := &mesospb.Offer_Operation{Type: mesospb.Offer_Operation_RESERVE.Enum(), Id: &mesospb.OperationID{Value: proto.String("tagged")},
		Reserve: &mesospb.Offer_Operation_Reserve{Resources: toProto(mustParse("cpus(eng,dynamic):1"), "eng")}}
	sts := opStatuses(events(acceptOps(t, c, fid, "s", o, bare, tagged), "s"))
	if sts["bare"].GetState() != mesospb.OperationState_OPERATION_ERROR || !strings.Contains(sts["bare"].GetMessage(), "allocation_info") {
		t.Errorf("bare = %v", sts["bare"])
	}
	if sts["tagged"].GetState() != mesospb.OperationState_OPERATION_FINISHED {
		t.Errorf("tagged = %v", sts["tagged"])
	}
	if want := mustParse("cpus:3;mem:1024;cpus(eng,dynamic):1"); !c.agents[aid].total.Equal(want) {
		t.Errorf("total %s, want %s", c.agents[aid].total, want)
	}
}
