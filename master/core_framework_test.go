package master

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

func TestDisconnectWithoutFailoverTearsDown(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	offersFor(t, c, "s1")
	if len(c.offers) != 1 {
		t.Fatalf("offers = %d", len(c.offers))
	}
	c.StreamClosed("s1", t0)
	eff := c.take()
	if _, ok := c.frameworks[fid]; ok {
		t.Fatal("framework with failover_timeout 0 still registered")
	}
	if len(c.offers) != 0 {
		t.Error("offers of a removed framework remain")
	}
	if n := len(agentMsgs(eff, "shutdown_framework")); n != 1 {
		t.Errorf("shutdown_framework sent %d times", n)
	}
	if len(c.completed) != 1 {
		t.Fatalf("completed = %v", c.completed)
	}
	tk := c.completed[0].tasks["t1"]
	if tk.pb.GetState() != mesospb.TaskState_TASK_KILLED ||
		tk.pb.Statuses[len(tk.pb.Statuses)-1].GetReason() != mesospb.TaskStatus_REASON_FRAMEWORK_REMOVED {
		t.Errorf("task after teardown = %v", tk.pb)
	}
	// A removed framework cannot come back.
	info := fwInfo()
	info.Id = frameworkIDpb(fid)
	if _, err := c.Subscribe(subscribeCall(info), "s2", t0); err != nil {
		t.Fatal(err)
	}
	evs := events(c.take(), "s2")
	if len(evs) != 1 || evs[0].GetType() != schedulerpb.Event_ERROR {
		t.Errorf("resubscribe of a removed framework: %v", evs)
	}
}

func TestFailoverKeepsIDAndTasks(t *testing.T) {
	c := testCore(t)
	info := fwInfo()
	info.FailoverTimeout = proto.Float64(60)
	fid, _, _ := launch(t, c, info)
	offersFor(t, c, "s1")
	c.StreamClosed("s1", t0)
	c.take()
	f := c.frameworks[fid]
	if f == nil || f.stream != "" || f.active {
		t.Fatalf("framework after disconnect = %+v", f)
	}
	if len(c.offers) != 0 {
		t.Error("offers survive a disconnect")
	}
	// No offers while disconnected.
	c.Allocate(t0)
	if len(c.offers) != 0 {
		t.Error("offers made to a disconnected framework")
	}
	c.expireFrameworks(t0.Add(59 * time.Second))
	if c.frameworks[fid] == nil {
		t.Fatal("framework removed before its failover timeout")
	}

	again := proto.Clone(info).(*mesospb.FrameworkInfo)
	again.Id = frameworkIDpb(fid)
	got := subscribe(t, c, "s2", again)
	if got != fid || c.frameworks[fid].tasks["t1"] == nil {
		t.Fatalf("resubscribed as %s, tasks %v", got, c.frameworks[fid].tasks)
	}
	if len(offersFor(t, c, "s2")) != 1 {
		t.Error("no offers after failover")
	}
}

func TestFailoverTimeoutExpires(t *testing.T) {
	c := testCore(t)
	info := fwInfo()
	info.FailoverTimeout = proto.Float64(10)
	fid, _, _ := launch(t, c, info)
	c.StreamClosed("s1", t0)
	c.take()
	c.expireFrameworks(t0.Add(10 * time.Second))
	eff := c.take()
	if c.frameworks[fid] != nil {
		t.Fatal("framework not removed after failover timeout")
	}
	if len(agentMsgs(eff, "shutdown_framework")) != 1 {
		t.Error("tasks not killed")
	}
}

func TestResubscribeClosesOldStream(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	info := fwInfo()
	info.Id = frameworkIDpb(fid)
	if _, err := c.Subscribe(subscribeCall(info), "s2", t0); err != nil {
		t.Fatal(err)
	}
	eff := c.take()
	old := events(eff, "s1")
	if len(old) != 1 || old[0].GetType() != schedulerpb.Event_ERROR {
		t.Errorf("old stream got %v", old)
	}
	closed := false
	for _, e := range eff {
		if cs, ok := e.(closeStream); ok && cs.Stream == "s1" {
			closed = true
		}
	}
	if !closed {
		t.Error("old stream not closed")
	}
	if nw := events(eff, "s2"); len(nw) != 1 || nw[0].GetSubscribed().GetFrameworkId().GetValue() != string(fid) {
		t.Errorf("new stream got %v", nw)
	}
	// The old stream's end does not disconnect the framework.
	c.StreamClosed("s1", t0)
	if c.frameworks[fid].stream != "s2" {
		t.Error("closing the old stream disconnected the framework")
	}
}

func TestTeardown(t *testing.T) {
	c := testCore(t)
	fid, _, _ := launch(t, c, fwInfo())
	mustCall(t, c, call(fid, schedulerpb.Call_TEARDOWN), "s1")
	eff := c.take()
	if c.frameworks[fid] != nil || len(agentMsgs(eff, "shutdown_framework")) != 1 {
		t.Fatal("teardown did not remove the framework and kill its tasks")
	}
}

func TestSuppressRevive(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	mustCall(t, c, call(fid, schedulerpb.Call_SUPPRESS), "s1")
	admit(t, c, "a1", "cpus:1;mem:128")
	if len(offersFor(t, c, "s1")) != 0 {
		t.Fatal("offers while suppressed")
	}
	mustCall(t, c, call(fid, schedulerpb.Call_REVIVE), "s1")
	if !c.allocateSoon {
		t.Error("revive did not ask for an allocation")
	}
	if len(offersFor(t, c, "s1")) != 1 {
		t.Fatal("no offers after revive")
	}
}

func TestCallChecks(t *testing.T) {
	c := testCore(t)
	fid := subscribe(t, c, "s1", fwInfo())
	status := func(err error) int {
		var he *api.HTTPError
		if errors.As(err, &he) {
			return he.Status
		}
		if err == nil {
			return http.StatusAccepted
		}
		return 500
	}
	ackBad := call(fid, schedulerpb.Call_ACKNOWLEDGE)
	ackBad.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb("a"), TaskId: taskIDpb("t"), Uuid: []byte("short")}
	for _, tc := range []struct {
		name   string
		call   *schedulerpb.Call
		stream string
		want   int
	}{
		{"no framework id", &schedulerpb.Call{Type: schedulerpb.Call_REVIVE.Enum()}, "s1", 400},
		{"unknown framework", call("m-9999", schedulerpb.Call_REVIVE), "s1", 403},
		{"wrong stream", call(fid, schedulerpb.Call_REVIVE), "s2", 400},
		{"short uuid", ackBad, "s1", 400},
		{"accept without body", call(fid, schedulerpb.Call_ACCEPT), "s1", 400},
		{"inverse offers without body", call(fid, schedulerpb.Call_ACCEPT_INVERSE_OFFERS), "s1", 400},
		{"unknown type", call(fid, schedulerpb.Call_Type(99)), "s1", 400},
		{"request ignored", call(fid, schedulerpb.Call_REQUEST), "s1", 202},
		{"ok", call(fid, schedulerpb.Call_REVIVE), "s1", 202},
	} {
		if got := status(c.Call(tc.call, tc.stream, t0)); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// After the stream broke (with a failover timeout) calls are 403.
	info := fwInfo()
	info.FailoverTimeout = proto.Float64(60)
	fid2 := subscribe(t, c, "s3", info)
	c.StreamClosed("s3", t0)
	if got := status(c.Call(call(fid2, schedulerpb.Call_REVIVE), "s3", t0)); got != 403 {
		t.Errorf("call after disconnect: %d, want 403", got)
	}
}

func TestAdmitAgentWithTasksAndReadmit(t *testing.T) {
	c := testCore(t)
	info := fwInfo()
	fid := subscribe(t, c, "s1", info)
	st := &internalpb.AgentState{
		AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("a1"), Id: agentIDpb("old-S3"),
			Resources: toProto(mustParse("cpus:2;mem:256"), "")},
		Tasks: []*mesospb.Task{{
			Name: proto.String("t"), TaskId: taskIDpb("t"), FrameworkId: frameworkIDpb(fid),
			AgentId: agentIDpb("old-S3"), State: mesospb.TaskState_TASK_RUNNING.Enum(),
			Resources: toProto(mustParse("cpus:1;mem:128"), ""),
		}},
	}
	id, err := c.AdmitAgent(st, mustAddr("10.0.0.3:5051"), "10.0.0.3:5056", "agent@10.0.0.3:5051", t0)
	if err != nil || id != "old-S3" {
		t.Fatalf("admit = %s, %v", id, err)
	}
	eff := c.take()
	if reg := agentMsgs(eff, "registered"); len(reg) != 1 || reg[0].(*internalpb.Registered).GetAgentId().GetValue() != "old-S3" {
		t.Errorf("registered = %v", reg)
	}
	if c.frameworks[fid].tasks["t"] == nil {
		t.Error("agent's task not known to the master")
	}
	offers := offersFor(t, c, "s1")
	if len(offers) != 1 {
		t.Fatalf("offers = %v", offers)
	}
	if got, _ := fromProto(offers[0].GetResources()); got.String() != "cpus:1;mem:128" {
		t.Errorf("offered %s; the running task's share must be excluded", got)
	}
}

func TestReadmitKeepsIDAndLosesUnreportedTasks(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo())
	st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("a1"),
		Resources: toProto(mustParse("cpus:4;mem:1024"), "")}}
	id, err := c.AdmitAgent(st, mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0)
	if err != nil || id != aid {
		t.Fatalf("re-admit = %s, %v; want %s", id, err, aid)
	}
	ups := updates(events(c.take(), "s1"))
	if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_LOST ||
		ups[0].GetReason() != mesospb.TaskStatus_REASON_AGENT_RESTARTED || len(ups[0].GetUuid()) != 16 {
		t.Fatalf("updates = %v", ups)
	}
	if c.frameworks[fid].tasks["t1"].pb.GetState() != mesospb.TaskState_TASK_LOST {
		t.Error("task state not updated")
	}
	if n := len(c.agents); n != 1 {
		t.Errorf("%d agents after re-admission", n)
	}
}

func TestAdmitAgentShutsDownUnknownFrameworks(t *testing.T) {
	c := testCore(t)
	subscribe(t, c, "s1", fwInfo())
	st := &internalpb.AgentState{
		AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("a1"), Resources: toProto(mustParse("cpus:2;mem:256"), "")},
		Tasks: []*mesospb.Task{{
			Name: proto.String("t"), TaskId: taskIDpb("t"), FrameworkId: frameworkIDpb("gone-0007"),
			AgentId: agentIDpb("x"), State: mesospb.TaskState_TASK_RUNNING.Enum(),
			Resources: toProto(mustParse("cpus:1;mem:128"), ""),
		}},
	}
	if _, err := c.AdmitAgent(st, mustAddr("10.0.0.3:5051"), "", "agent@x", t0); err != nil {
		t.Fatal(err)
	}
	msgs := agentMsgs(c.take(), "shutdown_framework")
	if len(msgs) != 1 || msgs[0].(*internalpb.ShutdownFramework).GetFrameworkId().GetValue() != "gone-0007" {
		t.Fatalf("shutdown_framework = %v", msgs)
	}
}
