package master

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func TestSubscribeThenOffers(t *testing.T) {
	c := testCore(t)
	id, err := c.Subscribe(subscribeCall(fwInfo()), "s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if id != "m-0000" {
		t.Errorf("framework id = %s, want m-0000", id)
	}
	evs := events(c.take(), "s1")
	if len(evs) != 1 || evs[0].GetType() != schedulerpb.Event_SUBSCRIBED {
		t.Fatalf("events = %v", evs)
	}
	sub := evs[0].GetSubscribed()
	if sub.GetFrameworkId().GetValue() != "m-0000" || sub.GetHeartbeatIntervalSeconds() != 15 {
		t.Errorf("subscribed = %v", sub)
	}
	addr := sub.GetMasterInfo().GetAddress()
	if addr.GetIp() != "10.0.0.1" || addr.GetPort() != 5050 || addr.GetHostname() != "master-host" {
		t.Errorf("master_info.address = %v", addr)
	}

	aid := admit(t, c, "a1", "cpus:4;mem:1024;ports:[31000-32000]")
	if aid != "m-S0" {
		t.Errorf("agent id = %s, want m-S0", aid)
	}
	offers := offersFor(t, c, "s1")
	if len(offers) != 1 {
		t.Fatalf("offers = %v", offers)
	}
	o := offers[0]
	if o.GetId().GetValue() != "m-O0" || o.GetFrameworkId().GetValue() != "m-0000" || o.GetAgentId().GetValue() != "m-S0" || o.GetHostname() != "a1" {
		t.Errorf("offer = %v", o)
	}
	u := o.GetUrl()
	if u.GetScheme() != "http" || u.GetPath() != "/slave(1)" || u.GetAddress().GetIp() != "10.0.0.2" || u.GetAddress().GetPort() != 5051 {
		t.Errorf("offer url = %v", u)
	}
	if o.AllocationInfo != nil {
		t.Errorf("allocation_info set for a framework without MULTI_ROLE")
	}
	for _, r := range o.GetResources() {
		if r.AllocationInfo != nil {
			t.Errorf("resource %s has allocation_info", r.GetName())
		}
	}
	got, _ := fromProto(o.GetResources())
	if got.String() != "cpus:4;mem:1024;ports:[31000-32000]" {
		t.Errorf("offered %s", got)
	}
}

func TestMultiRoleOffersCarryAllocationInfo(t *testing.T) {
	c := testCore(t)
	info := fwInfo(mesospb.FrameworkInfo_Capability_MULTI_ROLE)
	info.Roles = []string{"eng"}
	subscribe(t, c, "s1", info)
	admit(t, c, "a1", "cpus:1;mem:128")
	offers := offersFor(t, c, "s1")
	if len(offers) != 1 || offers[0].GetAllocationInfo().GetRole() != "eng" {
		t.Fatalf("offers = %v", offers)
	}
	for _, r := range offers[0].GetResources() {
		if r.GetAllocationInfo().GetRole() != "eng" {
			t.Errorf("resource %s allocation_info = %v", r.GetName(), r.GetAllocationInfo())
		}
	}
}

func TestSubscribeValidation(t *testing.T) {
	c := testCore(t)
	for name, info := range map[string]*mesospb.FrameworkInfo{
		"no user":           {Name: proto.String("x")},
		"no name":           {User: proto.String("x")},
		"roles without cap": {User: proto.String("x"), Name: proto.String("x"), Roles: []string{"a"}},
		"bad role":          {User: proto.String("x"), Name: proto.String("x"), Role: proto.String("a b")},
		"negative failover": {User: proto.String("x"), Name: proto.String("x"), FailoverTimeout: proto.Float64(-1)},
	} {
		_, err := c.Subscribe(subscribeCall(info), "s", t0)
		var he *api.HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
			t.Errorf("%s: err = %v, want 400", name, err)
		}
	}
	if len(c.frameworks) != 0 {
		t.Errorf("invalid subscriptions registered frameworks")
	}
}

// launch subscribes a framework, admits an agent and launches one task.
func launch(t *testing.T, c *core, info *mesospb.FrameworkInfo) (ids.FrameworkID, ids.AgentID, *mesospb.Offer) {
	t.Helper()
	fid := subscribe(t, c, "s1", info)
	aid := admit(t, c, "a1", "cpus:4;mem:1024")
	offers := offersFor(t, c, "s1")
	if len(offers) != 1 {
		t.Fatalf("offers = %v", offers)
	}
	cl := acceptCall(fid, []*mesospb.OfferID{offers[0].GetId()}, command("t1", offers[0].GetAgentId(), "cpus:1;mem:128"))
	cl.Accept.Filters = &mesospb.Filters{RefuseSeconds: proto.Float64(0)}
	mustCall(t, c, cl, "s1")
	eff := c.take()
	if n := len(agentMsgs(eff, "run_tasks")); n != 1 {
		t.Fatalf("run_tasks sent %d times", n)
	}
	return fid, aid, offers[0]
}

func TestAcceptLaunchesAndReoffersTheRest(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	admit(t, c, "a1", "cpus:4;mem:1024")
	o := offersFor(t, c, "s1")[0]
	cl := acceptCall(fid, []*mesospb.OfferID{o.GetId()},
		command("t1", o.GetAgentId(), "cpus:1;mem:128"), command("t2", o.GetAgentId(), "cpus:1;mem:128"))
	cl.Accept.Filters = &mesospb.Filters{RefuseSeconds: proto.Float64(0)}
	mustCall(t, c, cl, "s1")
	eff := c.take()
	msgs := agentMsgs(eff, "run_tasks")
	if len(msgs) != 1 {
		t.Fatalf("run_tasks = %v", msgs)
	}
	rt := msgs[0].(*internalpb.RunTasks)
	if len(rt.GetTasks()) != 2 || rt.GetFrameworkInfo().GetId().GetValue() != string(fid) {
		t.Errorf("run_tasks = %v", rt)
	}
	if st := c.frameworks[fid].tasks["t1"].pb.GetState(); st != mesospb.TaskState_TASK_STAGING {
		t.Errorf("t1 state = %v", st)
	}
	if len(updates(events(eff, "s1"))) != 0 {
		t.Errorf("valid launch produced updates")
	}
	rest := offersFor(t, c, "s1")
	if len(rest) != 1 {
		t.Fatalf("re-offers = %v", rest)
	}
	got, _ := fromProto(rest[0].GetResources())
	if got.String() != "cpus:2;mem:768" {
		t.Errorf("re-offered %s, want cpus:2;mem:768", got)
	}
}

func TestAcceptInvalidTasks(t *testing.T) {
	agentOf := func(o *mesospb.Offer) *mesospb.AgentID { return o.GetAgentId() }
	cases := []struct {
		name string
		task func(o *mesospb.Offer) []*mesospb.TaskInfo
		want string
	}{
		{"no name", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.Name = nil
			return []*mesospb.TaskInfo{ti}
		}, "no 'name'"},
		{"no task id", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.TaskId = nil
			return []*mesospb.TaskInfo{ti}
		}, "no 'task_id'"},
		{"no agent id", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			return []*mesospb.TaskInfo{command("t", nil, "cpus:1")}
		}, "no 'agent_id'"},
		{"other agent", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			return []*mesospb.TaskInfo{command("t", agentIDpb("m-S9"), "cpus:1")}
		}, "uses agent m-S9"},
		{"command and executor", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.Executor = &mesospb.ExecutorInfo{ExecutorId: &mesospb.ExecutorID{Value: proto.String("e")}}
			return []*mesospb.TaskInfo{ti}
		}, "not both"},
		{"neither command nor executor", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.Command = nil
			return []*mesospb.TaskInfo{ti}
		}, "not both"},
		{"too much", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			return []*mesospb.TaskInfo{command("t", agentOf(o), "cpus:5")}
		}, "not contained in the offered resources"},
		{"unknown resource", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			return []*mesospb.TaskInfo{command("t", agentOf(o), "gpus:1")}
		}, "not contained"},
		{"negative", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.Resources[0].Scalar.Value = proto.Float64(-1)
			return []*mesospb.TaskInfo{ti}
		}, "invalid resources"},
		{"text type", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:1")
			ti.Resources[0].Type = mesospb.Value_TEXT.Enum()
			return []*mesospb.TaskInfo{ti}
		}, "invalid resources"},
		{"executor resources exceed", func(o *mesospb.Offer) []*mesospb.TaskInfo {
			ti := command("t", agentOf(o), "cpus:3")
			ti.Command = nil
			ti.Executor = &mesospb.ExecutorInfo{ExecutorId: &mesospb.ExecutorID{Value: proto.String("e")},
				Command: &mesospb.CommandInfo{Value: proto.String("x")}, Resources: toProto(resources.MustParse("cpus:2"), "")}
			return []*mesospb.TaskInfo{ti}
		}, "not contained"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testCore(t)
			fid := subscribe(t, c, "s1", fwInfo())
			admit(t, c, "a1", "cpus:4;mem:1024")
			o := offersFor(t, c, "s1")[0]
			mustCall(t, c, acceptCall(fid, []*mesospb.OfferID{o.GetId()}, tc.task(o)...), "s1")
			eff := c.take()
			ups := updates(events(eff, "s1"))
			if len(ups) != 1 {
				t.Fatalf("updates = %v", ups)
			}
			u := ups[0]
			if u.GetState() != mesospb.TaskState_TASK_ERROR || u.GetReason() != mesospb.TaskStatus_REASON_TASK_INVALID ||
				u.GetSource() != mesospb.TaskStatus_SOURCE_MASTER || u.Uuid != nil {
				t.Errorf("update = %v", u)
			}
			if !strings.Contains(u.GetMessage(), tc.want) {
				t.Errorf("message %q should contain %q", u.GetMessage(), tc.want)
			}
			if len(agentMsgs(eff, "run_tasks")) != 0 {
				t.Errorf("invalid task sent to the agent")
			}
			// Everything goes back (refused for the default 5 s).
			if len(offersFor(t, c, "s1")) != 0 {
				t.Errorf("declined resources re-offered within the filter")
			}
			c.Allocate(t0.Add(6 * time.Second))
			if len(events(c.take(), "s1")) != 1 {
				t.Errorf("resources not re-offered after the filter")
			}
		})
	}
}

func TestAcceptDuplicateTaskIDs(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	o := offersFor(t, c, "s1")
	c.Allocate(t0.Add(6 * time.Second))
	for _, ev := range events(c.take(), "s1") {
		o = append(o, ev.GetOffers().GetOffers()...)
	}
	if len(o) != 1 {
		t.Fatalf("offers = %v", o)
	}
	a := o[0].GetAgentId()
	mustCall(t, c, acceptCall(fid, []*mesospb.OfferID{o[0].GetId()},
		command("t1", a, "cpus:1"), command("t2", a, "cpus:1"), command("t2", a, "cpus:1")), "s1")
	eff := c.take()
	ups := updates(events(eff, "s1"))
	if len(ups) != 2 {
		t.Fatalf("updates = %v", ups)
	}
	if !strings.Contains(ups[0].GetMessage(), "duplicate ID") || ups[0].GetTaskId().GetValue() != "t1" {
		t.Errorf("t1 update = %v", ups[0])
	}
	if !strings.Contains(ups[1].GetMessage(), "within the batch") {
		t.Errorf("second t2 update = %v", ups[1])
	}
	rt := agentMsgs(eff, "run_tasks")
	if len(rt) != 1 || len(rt[0].(*internalpb.RunTasks).GetTasks()) != 1 {
		t.Errorf("run_tasks = %v", rt)
	}
}

func TestAcceptInvalidOffers(t *testing.T) {
	for _, pa := range []bool{false, true} {
		c := testCore(t)
		info := fwInfo()
		want := mesospb.TaskState_TASK_LOST
		if pa {
			info = fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE)
			want = mesospb.TaskState_TASK_DROPPED
		}
		fid := subscribe(t, c, "s1", info)
		admit(t, c, "a1", "cpus:4;mem:1024")
		o := offersFor(t, c, "s1")[0]
		unknown := &mesospb.OfferID{Value: proto.String("m-O99")}
		mustCall(t, c, acceptCall(fid, []*mesospb.OfferID{o.GetId(), unknown},
			command("t1", o.GetAgentId(), "cpus:1"), command("t2", o.GetAgentId(), "cpus:1")), "s1")
		eff := c.take()
		ups := updates(events(eff, "s1"))
		if len(ups) != 2 {
			t.Fatalf("updates = %v", ups)
		}
		for _, u := range ups {
			if u.GetState() != want || u.GetReason() != mesospb.TaskStatus_REASON_INVALID_OFFERS || u.Uuid != nil {
				t.Errorf("update = %v", u)
			}
		}
		if len(agentMsgs(eff, "run_tasks")) != 0 {
			t.Error("tasks of invalid offers launched")
		}
		// The valid offer was consumed: reusing it is invalid too.
		mustCall(t, c, acceptCall(fid, []*mesospb.OfferID{o.GetId()}, command("t3", o.GetAgentId(), "cpus:1")), "s1")
		ups = updates(events(c.take(), "s1"))
		if len(ups) != 1 || ups[0].GetReason() != mesospb.TaskStatus_REASON_INVALID_OFFERS ||
			!strings.Contains(ups[0].GetMessage(), "no longer valid") {
			t.Errorf("reused offer: %v", ups)
		}
		// Its resources came back without a filter.
		if len(offersFor(t, c, "s1")) != 1 {
			t.Error("valid offer of a failed accept not recovered")
		}
	}
}

func TestAcceptOfferOfAnotherFramework(t *testing.T) {
	c := testCore(t)
	subscribe(t, c, "s1", fwInfo())
	other := subscribe(t, c, "s2", fwInfo())
	admit(t, c, "a1", "cpus:4;mem:1024")
	o := offersFor(t, c, "s1")
	if len(o) != 1 {
		t.Fatalf("offers = %v", o)
	}
	mustCall(t, c, acceptCall(other, []*mesospb.OfferID{o[0].GetId()}, command("t", o[0].GetAgentId(), "cpus:1")), "s2")
	ups := updates(events(c.take(), "s2"))
	if len(ups) != 1 || ups[0].GetReason() != mesospb.TaskStatus_REASON_INVALID_OFFERS {
		t.Fatalf("updates = %v", ups)
	}
	if _, ok := c.offers[ids.OfferID(o[0].GetId().GetValue())]; !ok {
		t.Error("another framework's accept consumed the offer")
	}
}

func TestAcceptWithoutOperationsDeclines(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	admit(t, c, "a1", "cpus:4;mem:1024")
	o := offersFor(t, c, "s1")[0]
	cl := call(fid, schedulerpb.Call_ACCEPT)
	cl.Accept = &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{o.GetId()}}
	mustCall(t, c, cl, "s1")
	if len(c.offers) != 0 {
		t.Fatal("offer still outstanding")
	}
	if len(offersFor(t, c, "s1")) != 0 {
		t.Error("re-offered within the default 5 s filter")
	}
}

func TestDeclineFilters(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	admit(t, c, "a1", "cpus:4;mem:1024")
	o := offersFor(t, c, "s1")[0]
	cl := call(fid, schedulerpb.Call_DECLINE)
	cl.Decline = &schedulerpb.Call_Decline{OfferIds: []*mesospb.OfferID{o.GetId()},
		Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(30)}}
	mustCall(t, c, cl, "s1")
	c.Allocate(t0.Add(20 * time.Second))
	if len(events(c.take(), "s1")) != 0 {
		t.Error("re-offered within the 30 s filter")
	}
	c.Allocate(t0.Add(31 * time.Second))
	if len(events(c.take(), "s1")) != 1 {
		t.Error("not re-offered after the filter")
	}
	// An empty decline is valid.
	empty := call(fid, schedulerpb.Call_DECLINE)
	empty.Decline = &schedulerpb.Call_Decline{}
	mustCall(t, c, empty, "s1")
}

func TestKill(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	k := call(fid, schedulerpb.Call_KILL)
	k.Kill = &schedulerpb.Call_Kill{TaskId: taskIDpb("t1")}
	mustCall(t, c, k, "s1")
	msgs := agentMsgs(c.take(), "kill_task")
	if len(msgs) != 1 || msgs[0].(*internalpb.KillTask).GetTaskId().GetValue() != "t1" {
		t.Fatalf("kill_task = %v", msgs)
	}

	k.Kill = &schedulerpb.Call_Kill{TaskId: taskIDpb("nope")}
	mustCall(t, c, k, "s1")
	eff := c.take()
	ups := updates(events(eff, "s1"))
	if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_LOST || ups[0].Uuid != nil {
		t.Fatalf("unknown kill: %v", ups)
	}
	if len(agentMsgs(eff, "kill_task")) != 0 {
		t.Error("kill of an unknown task sent to an agent")
	}
}

func TestKillUnknownPartitionAware(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE))
	k := call(fid, schedulerpb.Call_KILL)
	k.Kill = &schedulerpb.Call_Kill{TaskId: taskIDpb("nope")}
	mustCall(t, c, k, "s1")
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_UNKNOWN {
		t.Fatalf("updates = %v", ups)
	}
}

func TestReconcile(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	r := call(fid, schedulerpb.Call_RECONCILE)
	r.Reconcile = &schedulerpb.Call_Reconcile{}
	mustCall(t, c, r, "s1")
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetTaskId().GetValue() != "t1" || ups[0].GetState() != mesospb.TaskState_TASK_STAGING ||
		ups[0].GetReason() != mesospb.TaskStatus_REASON_RECONCILIATION || ups[0].Uuid != nil {
		t.Fatalf("implicit: %v", ups)
	}
	r.Reconcile.Tasks = []*schedulerpb.Call_Reconcile_Task{{TaskId: taskIDpb("t1")}, {TaskId: taskIDpb("ghost")}}
	mustCall(t, c, r, "s1")
	ups = updates(events(c.take(), "s1"))
	if len(ups) != 2 || ups[0].GetState() != mesospb.TaskState_TASK_STAGING || ups[1].GetState() != mesospb.TaskState_TASK_LOST ||
		ups[1].GetReason() != mesospb.TaskStatus_REASON_RECONCILIATION || ups[1].Uuid != nil {
		t.Fatalf("explicit: %v", ups)
	}
}

// After a master restart, tasks on agents that have not re-registered yet
// are not answered as lost: they are unknown only until the agent is back.
func TestReconcileWaitsForRecoveredAgents(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	c.recovered["recovering-S9"] = &mesospb.AgentInfo{}
	r := call(fid, schedulerpb.Call_RECONCILE)
	r.Reconcile = &schedulerpb.Call_Reconcile{Tasks: []*schedulerpb.Call_Reconcile_Task{
		{TaskId: taskIDpb("on-recovering"), AgentId: agentIDpb("recovering-S9")},
		{TaskId: taskIDpb("on-unknown"), AgentId: agentIDpb("nobody-S1")},
	}}
	mustCall(t, c, r, "s1")
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetTaskId().GetValue() != "on-unknown" || ups[0].GetState() != mesospb.TaskState_TASK_LOST {
		t.Fatalf("updates = %v, want only TASK_LOST for the task on an unknown agent", ups)
	}
}

func statusUpdate(fid ids.FrameworkID, aid ids.AgentID, tid string, state mesospb.TaskState, uuid string) *internalpb.StatusUpdate {
	return &internalpb.StatusUpdate{
		FrameworkId: frameworkIDpb(fid), AgentId: agentIDpb(aid),
		Status: &mesospb.TaskStatus{TaskId: taskIDpb(ids.TaskID(tid)), State: state.Enum(),
			Source: mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(), Uuid: []byte(uuid)},
	}
}

func TestStatusUpdateForwardAckAndRecover(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo())
	if rest := offersFor(t, c, "s1"); len(rest) != 1 {
		t.Fatalf("rest of the agent not offered: %v", rest)
	}

	c.StatusUpdate(statusUpdate(fid, aid, "t1", mesospb.TaskState_TASK_RUNNING, "0123456789abcdef"), t0)
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_RUNNING || string(ups[0].GetUuid()) != "0123456789abcdef" {
		t.Fatalf("forwarded = %v", ups)
	}
	ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
	ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb(aid), TaskId: taskIDpb("t1"), Uuid: []byte("0123456789abcdef")}
	mustCall(t, c, ack, "s1")
	msgs := agentMsgs(c.take(), "status_update_ack")
	if len(msgs) != 1 || string(msgs[0].(*internalpb.StatusUpdateAck).GetUuid()) != "0123456789abcdef" {
		t.Fatalf("ack relay = %v", msgs)
	}

	// A terminal state frees the task's resources at once.
	su := statusUpdate(fid, aid, "t1", mesospb.TaskState_TASK_FINISHED, "fedcba9876543210")
	c.StatusUpdate(su, t0)
	if !c.allocateSoon {
		t.Error("a finished task did not ask for an allocation")
	}
	c.take()
	offers := offersFor(t, c, "s1")
	if len(offers) != 1 {
		t.Fatalf("offers after finish = %v", offers)
	}
	got, _ := fromProto(offers[0].GetResources())
	if got.String() != "cpus:1;mem:128" {
		t.Errorf("re-offered %s", got)
	}
}

func TestAgentRemovedTasks(t *testing.T) {
	for _, pa := range []bool{false, true} {
		c := testCore(t)
		info, want := fwInfo(), mesospb.TaskState_TASK_LOST
		if pa {
			info, want = fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE), mesospb.TaskState_TASK_UNREACHABLE
		}
		fid, aid, _ := launch(t, c, info)
		c.Allocate(t0)
		offered := events(c.take(), "s1")
		if len(offered) != 1 {
			t.Fatalf("offers = %v", offered)
		}
		c.RemoveAgent(aid, false, t0)
		eff := c.take()
		evs := events(eff, "s1")
		var rescinds int
		for _, ev := range evs {
			if ev.GetType() == schedulerpb.Event_RESCIND {
				rescinds++
			}
		}
		if rescinds != 1 {
			t.Errorf("rescinds = %d", rescinds)
		}
		ups := updates(evs)
		if len(ups) != 1 {
			t.Fatalf("updates = %v", ups)
		}
		u := ups[0]
		if u.GetState() != want || u.GetReason() != mesospb.TaskStatus_REASON_AGENT_REMOVED ||
			u.GetSource() != mesospb.TaskStatus_SOURCE_MASTER || len(u.GetUuid()) != 16 {
			t.Errorf("update = %v", u)
		}
		// The framework's ack of a master-made update is swallowed.
		ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
		ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb(aid), TaskId: taskIDpb("t1"), Uuid: u.GetUuid()}
		mustCall(t, c, ack, "s1")
		if msgs := agentMsgs(c.take(), "status_update_ack"); len(msgs) != 0 {
			t.Errorf("master-made ack relayed: %v", msgs)
		}
	}
}

func TestRunTasksFailed(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	aid := admit(t, c, "a1", "cpus:4;mem:1024")
	o := offersFor(t, c, "s1")[0]
	mustCall(t, c, acceptCall(fid, []*mesospb.OfferID{o.GetId()}, command("t1", o.GetAgentId(), "cpus:1")), "s1")
	rt := agentMsgs(c.take(), "run_tasks")[0].(*internalpb.RunTasks)
	c.RunTasksFailed(aid, rt, t0)
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_LOST ||
		ups[0].GetReason() != mesospb.TaskStatus_REASON_AGENT_DISCONNECTED || len(ups[0].GetUuid()) != 16 {
		t.Fatalf("updates = %v", ups)
	}
}
