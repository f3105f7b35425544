package master

import (
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/registry"
	"google.golang.org/protobuf/proto"
)

// status is the HTTP status an error of the core maps to (0: nil).
func status(err error) int {
	if err == nil {
		return 0
	}
	return api.StatusOf(err, 500)
}

func eventsOf(evs []*schedulerpb.Event, typ schedulerpb.Event_Type) []*schedulerpb.Event {
	var out []*schedulerpb.Event
	for _, ev := range evs {
		if ev.GetType() == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestMessageRelayBothWays(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo())
	m := call(fid, schedulerpb.Call_MESSAGE)
	m.Message = &schedulerpb.Call_Message{AgentId: agentIDpb(aid), ExecutorId: &mesospb.ExecutorID{Value: proto.String("t1")}, Data: []byte("ping")}
	mustCall(t, c, m, "s1")
	var sent []toAgent
	for _, e := range c.take() {
		if a, ok := e.(toAgent); ok {
			sent = append(sent, a)
		}
	}
	if len(sent) != 1 || sent[0].Path != "framework_message" || !sent[0].BestEffort {
		t.Fatalf("sent %v, want one best-effort framework_message", sent)
	}
	if ft := sent[0].Msg.(*internalpb.FrameworkToExecutor); ft.GetExecutorId().GetValue() != "t1" || string(ft.GetData()) != "ping" ||
		ft.GetFrameworkId().GetValue() != string(fid) {
		t.Errorf("message = %v", ft)
	}
	// To an unknown agent: dropped (202, nothing sent).
	m.Message.AgentId = agentIDpb("nope")
	mustCall(t, c, m, "s1")
	if msgs := agentMsgs(c.take(), "framework_message"); len(msgs) != 0 {
		t.Errorf("message to an unknown agent sent: %v", msgs)
	}

	c.ExecutorMessage(&internalpb.ExecutorToFramework{FrameworkId: frameworkIDpb(fid), AgentId: agentIDpb(aid),
		ExecutorId: &mesospb.ExecutorID{Value: proto.String("t1")}, Data: []byte("pong")})
	evs := eventsOf(events(c.take(), "s1"), schedulerpb.Event_MESSAGE)
	if len(evs) != 1 || string(evs[0].GetMessage().GetData()) != "pong" || evs[0].GetMessage().GetAgentId().GetValue() != string(aid) {
		t.Fatalf("MESSAGE events = %v", evs)
	}
}

func TestShutdownAndExecutorExit(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo())
	sh := call(fid, schedulerpb.Call_SHUTDOWN)
	sh.Shutdown = &schedulerpb.Call_Shutdown{AgentId: agentIDpb(aid), ExecutorId: &mesospb.ExecutorID{Value: proto.String("t1")}}
	mustCall(t, c, sh, "s1")
	msgs := agentMsgs(c.take(), "shutdown_executor")
	if len(msgs) != 1 || msgs[0].(*internalpb.ShutdownExecutor).GetExecutorId().GetValue() != "t1" {
		t.Fatalf("shutdown_executor = %v", msgs)
	}
	// An agent without the endpoint: the executor's tasks are killed.
	c.ShutdownByKill(aid, msgs[0].(*internalpb.ShutdownExecutor))
	if kills := agentMsgs(c.take(), "kill_task"); len(kills) != 1 || kills[0].(*internalpb.KillTask).GetTaskId().GetValue() != "t1" {
		t.Errorf("fallback kills = %v", kills)
	}
	c.ExecutorExited(&internalpb.ExecutorExited{FrameworkId: frameworkIDpb(fid), AgentId: agentIDpb(aid),
		ExecutorId: &mesospb.ExecutorID{Value: proto.String("t1")}, Status: proto.Int32(256)})
	f := eventsOf(events(c.take(), "s1"), schedulerpb.Event_FAILURE)
	if len(f) != 1 || f[0].GetFailure().GetExecutorId().GetValue() != "t1" || f[0].GetFailure().GetStatus() != 256 ||
		f[0].GetFailure().GetAgentId().GetValue() != string(aid) {
		t.Fatalf("FAILURE = %v", f)
	}
}

func TestAgentLossSendsFailure(t *testing.T) {
	c := testCore(t)
	_, aid, _ := launch(t, c, fwInfo())
	c.RemoveAgent(aid, false, t0)
	f := eventsOf(events(c.take(), "s1"), schedulerpb.Event_FAILURE)
	if len(f) != 1 || f[0].GetFailure().GetAgentId().GetValue() != string(aid) || f[0].GetFailure().ExecutorId != nil {
		t.Fatalf("FAILURE = %v", f)
	}
	if _, ok := c.unreachable[aid]; !ok {
		t.Error("lost agent not counted unreachable")
	}
}

// TestPartitionStatesMapped: an agent's TASK_GONE reaches a framework that
// is not partition-aware as TASK_LOST, with the same uuid.
func TestPartitionStatesMapped(t *testing.T) {
	for _, pa := range []bool{false, true} {
		c := testCore(t)
		info, want := fwInfo(), mesospb.TaskState_TASK_LOST
		if pa {
			info, want = fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE), mesospb.TaskState_TASK_GONE
		}
		fid, aid, _ := launch(t, c, info)
		c.StatusUpdate(statusUpdate(fid, aid, "t1", mesospb.TaskState_TASK_GONE, "0123456789abcdef"), t0)
		ups := updates(events(c.take(), "s1"))
		if len(ups) != 1 || ups[0].GetState() != want || string(ups[0].GetUuid()) != "0123456789abcdef" {
			t.Errorf("partition aware %v: updates %v", pa, ups)
		}
	}
}

func TestOffersListCommandExecutors(t *testing.T) {
	c := testCore(t)
	launch(t, c, fwInfo())
	c.Allocate(t0)
	var offers []*mesospb.Offer
	for _, ev := range events(c.take(), "s1") {
		offers = append(offers, ev.GetOffers().GetOffers()...)
	}
	if len(offers) != 1 || len(offers[0].GetExecutorIds()) != 1 || offers[0].GetExecutorIds()[0].GetValue() != "t1" {
		t.Fatalf("offers = %v, want executor_ids [t1]", offers)
	}
	if offers[0].GetUrl().GetPath() != "/slave(1)" || offers[0].GetUrl().GetAddress().GetPort() != 5051 {
		t.Errorf("url = %v", offers[0].GetUrl())
	}
	if offers[0].AllocationInfo != nil || offers[0].GetResources()[0].AllocationInfo != nil {
		t.Error("allocation_info sent to a framework without MULTI_ROLE")
	}
}

func TestMarkAgentGone(t *testing.T) {
	for _, pa := range []bool{false, true} {
		c := testCore(t)
		info, want := fwInfo(), mesospb.TaskState_TASK_LOST
		if pa {
			info, want = fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE), mesospb.TaskState_TASK_GONE_BY_OPERATOR
		}
		_, aid, _ := launch(t, c, info)
		if err := c.MarkAgentGone(aid, t0); err != nil {
			t.Fatal(err)
		}
		evs := events(c.take(), "s1")
		ups := updates(evs)
		if len(ups) != 1 || ups[0].GetState() != want || ups[0].GetReason() != mesospb.TaskStatus_REASON_AGENT_REMOVED_BY_OPERATOR {
			t.Errorf("updates = %v", ups)
		}
		if len(eventsOf(evs, schedulerpb.Event_FAILURE)) != 1 {
			t.Error("no FAILURE for the gone agent")
		}
		if err := c.MarkAgentGone(aid, t0); err != nil {
			t.Errorf("second mark: %v", err)
		}
		if status(c.MarkAgentGone("unknown", t0)) != 404 {
			t.Error("unknown agent not 404")
		}
		// It comes back with its id: refused, for good.
		st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{Id: agentIDpb(aid), Hostname: proto.String("a1"),
			Resources: toProto(mustParse("cpus:4"), "")}}
		if _, err := c.AdmitAgent(st, mustAddr("10.0.0.2:5051"), "", "agent@a1", t0); err == nil {
			t.Error("gone agent admitted again")
		}
	}
}

func TestDeactivateDrainReactivate(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo())
	c.Allocate(t0)
	c.take()
	if err := c.DeactivateAgent(aid, t0); err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(events(c.take(), "s1"), schedulerpb.Event_RESCIND)); n != 1 {
		t.Errorf("rescinds = %d", n)
	}
	if offers := offersFor(t, c, "s1"); len(offers) != 0 {
		t.Errorf("deactivated agent offered: %v", offers)
	}
	if err := c.DrainAgent(aid, &mesospb.DurationInfo{Nanoseconds: proto.Int64(1e9)}, t0); err != nil {
		t.Fatal(err)
	}
	kills := agentMsgs(c.take(), "kill_task")
	if len(kills) != 1 || kills[0].(*internalpb.KillTask).GetKillPolicy().GetGracePeriod().GetNanoseconds() != 1e9 {
		t.Errorf("drain kills = %v", kills)
	}
	if err := c.ReactivateAgent(aid); err != nil {
		t.Fatal(err)
	}
	if offers := offersFor(t, c, "s1"); len(offers) != 1 {
		t.Errorf("reactivated agent not offered: %v", offers)
	}
	_ = fid
	if status(c.DeactivateAgent("nope", t0)) != 400 {
		t.Error("unknown agent accepted")
	}
}

func TestWeightsAndQuotaPersist(t *testing.T) {
	c := testCore(t)
	if err := c.UpdateWeights([]*mesospb.WeightInfo{{Role: proto.String("eng"), Weight: proto.Float64(3)}}); err != nil {
		t.Fatal(err)
	}
	if status(c.UpdateWeights([]*mesospb.WeightInfo{{Role: proto.String("eng"), Weight: proto.Float64(-1)}})) != 400 {
		t.Error("negative weight accepted")
	}
	if w := c.Weights(); len(w) != 1 || w[0].GetRole() != "eng" || w[0].GetWeight() != 3 {
		t.Errorf("weights = %v", w)
	}
	cfg := &quotapb.QuotaConfig{Role: proto.String("eng"), Limits: map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(2)}}}
	if err := c.UpdateQuota([]*quotapb.QuotaConfig{cfg}, true, t0); err != nil {
		t.Fatal(err)
	}
	if status(c.UpdateQuota([]*quotapb.QuotaConfig{{Role: proto.String("../x")}}, true, t0)) != 400 {
		t.Error("bad role accepted")
	}
	q := c.Quota()
	if len(q.GetConfigs()) != 1 || q.GetConfigs()[0].GetLimits()["cpus"].GetValue() != 2 {
		t.Errorf("quota = %v", q)
	}
	// A new core (a restarted master) over the same registry gets both back.
	c2 := testCore(t)
	c2.restorePolicy(c.reg.(*registry.Registry).State(), nil)
	if w := c2.Weights(); len(w) != 1 || w[0].GetWeight() != 3 {
		t.Errorf("restored weights = %v", w)
	}
	if q := c2.Quota(); len(q.GetConfigs()) != 1 {
		t.Errorf("restored quota = %v", q)
	}
}

func TestOperatorEvents(t *testing.T) {
	c := testCore(t)
	c.watchers = 1
	fid, aid, _ := launch(t, c, fwInfo())
	_ = fid
	c.take()
	c.StatusUpdate(statusUpdate(fid, aid, "t1", mesospb.TaskState_TASK_RUNNING, "0123456789abcdef"), t0)
	var got []masterpb.Event_Type
	for _, e := range c.take() {
		if oe, ok := e.(operatorEvent); ok {
			got = append(got, oe.Event.GetType())
			if oe.Event.GetType() == masterpb.Event_TASK_UPDATED && oe.Event.GetTaskUpdated().GetState() != mesospb.TaskState_TASK_RUNNING {
				t.Errorf("TASK_UPDATED = %v", oe.Event)
			}
		}
	}
	if len(got) != 1 || got[0] != masterpb.Event_TASK_UPDATED {
		t.Errorf("operator events = %v", got)
	}
	c.RemoveAgent(aid, false, t0)
	c.TeardownFramework(fid, t0)
	got = nil
	for _, e := range c.take() {
		if oe, ok := e.(operatorEvent); ok {
			got = append(got, oe.Event.GetType())
		}
	}
	want := map[masterpb.Event_Type]bool{masterpb.Event_AGENT_REMOVED: false, masterpb.Event_FRAMEWORK_REMOVED: false, masterpb.Event_TASK_UPDATED: false}
	for _, g := range got {
		want[g] = true
	}
	for typ, seen := range want {
		if !seen {
			t.Errorf("no %s among %v", typ, got)
		}
	}
	if status(c.TeardownFramework(ids.FrameworkID("nope"), t0)) != 400 {
		t.Error("teardown of an unknown framework not 400")
	}
}

func groupCall(fid ids.FrameworkID, offer *mesospb.Offer, ex *mesospb.ExecutorInfo, tasks ...*mesospb.TaskInfo) *schedulerpb.Call {
	cl := call(fid, schedulerpb.Call_ACCEPT)
	cl.Accept = &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{offer.GetId()}, Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(0)}, Operations: []*mesospb.Offer_Operation{{
		Type:        mesospb.Offer_Operation_LAUNCH_GROUP.Enum(),
		LaunchGroup: &mesospb.Offer_Operation_LaunchGroup{Executor: ex, TaskGroup: &mesospb.TaskGroupInfo{Tasks: tasks}},
	}}}
	return cl
}

func TestLaunchGroup(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	admit(t, c, "a1", "cpus:4;mem:1024")
	offer := offersFor(t, c, "s1")[0]
	ex := &mesospb.ExecutorInfo{Type: mesospb.ExecutorInfo_DEFAULT.Enum(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("grp")},
		Resources: toProto(mustParse("cpus:0.1;mem:32"), "")}
	mustCall(t, c, groupCall(fid, offer, ex, command("g1", offer.GetAgentId(), "cpus:1"), command("g2", offer.GetAgentId(), "cpus:1")), "s1")
	eff := c.take()
	rts := agentMsgs(eff, "run_tasks")
	if len(rts) != 1 {
		t.Fatalf("run_tasks = %v", rts)
	}
	rt := rts[0].(*internalpb.RunTasks)
	if rt.GetExecutorInfo().GetExecutorId().GetValue() != "grp" || rt.GetExecutorInfo().GetFrameworkId().GetValue() != string(fid) ||
		len(rt.GetTasks()) != 2 || rt.GetTasks()[0].GetCommand() == nil {
		t.Errorf("run_tasks = %v", rt)
	}
	if ups := updates(events(eff, "s1")); len(ups) != 0 {
		t.Errorf("valid group got updates %v", ups)
	}
	f := c.frameworks[fid]
	if f.tasks["g1"].pb.GetExecutorId().GetValue() != "grp" || len(c.viewExecutors().GetExecutors()) != 1 {
		t.Errorf("group tasks not recorded under their executor")
	}
	// The executor's resources counted once: 2 + 0.1 cpus used.
	used, _ := c.frameworkUse(f)
	if got := used.Scalar("cpus"); got != 2.1 {
		t.Errorf("cpus used = %v, want 2.1", got)
	}

	// One bad task spoils the whole group.
	offer = offersFor(t, c, "s1")[0]
	bad := command("g4", offer.GetAgentId(), "cpus:1")
	bad.Executor = ex
	mustCall(t, c, groupCall(fid, offer, ex, command("g3", offer.GetAgentId(), "cpus:1"), bad), "s1")
	eff = c.take()
	ups := updates(events(eff, "s1"))
	if len(ups) != 2 || ups[0].GetState() != mesospb.TaskState_TASK_ERROR || ups[0].GetReason() != mesospb.TaskStatus_REASON_TASK_GROUP_INVALID {
		t.Errorf("invalid group updates = %v", ups)
	}
	if len(agentMsgs(eff, "run_tasks")) != 0 || f.tasks["g3"] != nil {
		t.Error("part of an invalid group launched")
	}
}
