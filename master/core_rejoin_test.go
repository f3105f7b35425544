package master

import (
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// rejoinState is what an agent declared lost reports when it comes back:
// its id and task t1 still running.
func rejoinState(aid ids.AgentID, fid ids.FrameworkID) *internalpb.AgentState {
	return &internalpb.AgentState{
		AgentInfo: &mesospb.AgentInfo{Id: agentIDpb(aid), Hostname: proto.String("a1"),
			Resources: toProto(mustParse("cpus:4;mem:1024"), "")},
		Tasks: []*mesospb.Task{{
			Name: proto.String("t1"), TaskId: taskIDpb("t1"), FrameworkId: frameworkIDpb(fid),
			AgentId: agentIDpb(aid), State: mesospb.TaskState_TASK_RUNNING.Enum(),
			Resources: toProto(mustParse("cpus:1;mem:128"), ""),
		}},
	}
}

// A framework that is not partition-aware was told TASK_LOST: when the agent
// comes back with the task running, the master kills it, and the agent's
// TASK_KILLED reaches the framework. This holds whether or not the framework
// acknowledged the TASK_LOST (which makes the master forget the task).
func TestRejoinKillsTasksReportedLost(t *testing.T) {
	for _, acked := range []bool{false, true} {
		c := testCore(t)
		fid, aid, _ := launch(t, c, fwInfo())
		c.RemoveAgent(aid, false, t0)
		ups := updates(events(c.take(), "s1"))
		if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_LOST {
			t.Fatalf("updates on removal = %v", ups)
		}
		if acked {
			ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
			ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb(aid), TaskId: taskIDpb("t1"), Uuid: ups[0].GetUuid()}
			mustCall(t, c, ack, "s1")
			c.take()
			if _, ok := c.frameworks[fid].tasks["t1"]; ok {
				t.Fatal("acknowledged lost task still tracked")
			}
		}
		if _, err := c.AdmitAgent(rejoinState(aid, fid), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
			t.Fatal(err)
		}
		eff := c.take()
		kills := agentMsgs(eff, "kill_task")
		if len(kills) != 1 || kills[0].(*internalpb.KillTask).GetTaskId().GetValue() != "t1" ||
			kills[0].(*internalpb.KillTask).GetFrameworkId().GetValue() != string(fid) {
			t.Fatalf("acked=%v: kill_task = %v", acked, kills)
		}
		if ups := updates(events(eff, "s1")); len(ups) != 0 {
			t.Errorf("acked=%v: updates on rejoin = %v; the framework hears of the kill from the agent", acked, ups)
		}
		// The agent's TASK_KILLED flows to the framework and frees the task's resources.
		c.StatusUpdate(&internalpb.StatusUpdate{FrameworkId: frameworkIDpb(fid), AgentId: agentIDpb(aid),
			Status: &mesospb.TaskStatus{TaskId: taskIDpb("t1"), State: mesospb.TaskState_TASK_KILLED.Enum(),
				Source: mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(), Uuid: []byte("0123456789abcdef")}}, t0)
		ups = updates(events(c.take(), "s1"))
		if len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_KILLED {
			t.Errorf("acked=%v: updates after kill = %v", acked, ups)
		}
		if as, _ := c.alloc.Agent(aid); !as.Allocated.IsEmpty() {
			t.Errorf("acked=%v: still allocated after the kill: %v", acked, as.Allocated)
		}
		// A second rejoin does not kill again: the lost record was consumed.
		if _, err := c.AdmitAgent(rejoinState(aid, fid), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
			t.Fatal(err)
		}
		if kills := agentMsgs(c.take(), "kill_task"); len(kills) != 0 {
			t.Errorf("acked=%v: killed again on a later rejoin", acked)
		}
	}
}

// A partition-aware framework was told TASK_UNREACHABLE: when the agent
// comes back with the task running it is told TASK_RUNNING, and nothing is
// killed.
func TestRejoinTellsPartitionAwareFrameworks(t *testing.T) {
	c := testCore(t)
	fid, aid, _ := launch(t, c, fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE))
	c.RemoveAgent(aid, false, t0)
	if ups := updates(events(c.take(), "s1")); len(ups) != 1 || ups[0].GetState() != mesospb.TaskState_TASK_UNREACHABLE {
		t.Fatalf("updates on removal = %v", ups)
	}
	if _, err := c.AdmitAgent(rejoinState(aid, fid), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
		t.Fatal(err)
	}
	eff := c.take()
	if kills := agentMsgs(eff, "kill_task"); len(kills) != 0 {
		t.Errorf("kill_task = %v", kills)
	}
	ups := updates(events(eff, "s1"))
	if len(ups) != 1 {
		t.Fatalf("updates on rejoin = %v", ups)
	}
	u := ups[0]
	if u.GetState() != mesospb.TaskState_TASK_RUNNING || u.GetReason() != mesospb.TaskStatus_REASON_AGENT_REREGISTERED ||
		u.GetSource() != mesospb.TaskStatus_SOURCE_MASTER || len(u.GetUuid()) != 16 || u.GetAgentId().GetValue() != string(aid) {
		t.Errorf("update = %v", u)
	}
	if st := c.frameworks[fid].tasks["t1"].pb.GetState(); st != mesospb.TaskState_TASK_RUNNING {
		t.Errorf("task state = %v", st)
	}
	// Its acknowledgement is the master's to swallow.
	ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
	ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb(aid), TaskId: taskIDpb("t1"), Uuid: u.GetUuid()}
	mustCall(t, c, ack, "s1")
	if msgs := agentMsgs(c.take(), "status_update_ack"); len(msgs) != 0 {
		t.Errorf("master-made ack relayed: %v", msgs)
	}
}

// A plain re-admission (agent restarted, never declared lost) tells the
// framework nothing about tasks it reports running.
func TestRejoinWithoutLossIsSilent(t *testing.T) {
	for _, info := range []*mesospb.FrameworkInfo{fwInfo(), fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE)} {
		c := testCore(t)
		fid, aid, _ := launch(t, c, info)
		if _, err := c.AdmitAgent(rejoinState(aid, fid), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
			t.Fatal(err)
		}
		eff := c.take()
		if kills := agentMsgs(eff, "kill_task"); len(kills) != 0 {
			t.Errorf("kill_task = %v", kills)
		}
		if ups := updates(events(eff, "s1")); len(ups) != 0 {
			t.Errorf("updates = %v", ups)
		}
	}
}
