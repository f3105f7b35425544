package compat

import (
	"fmt"
	"os/user"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// TestFrameworkWithCustomExecutor is issue 3's acceptance 2: a framework
// (raw HTTP, protobuf codec, generated wire types only) and a custom
// executor (test/compat/executor, the same rules) launch 20 tasks through
// Cairn's master and agent, four executors with five tasks each, fetched
// from a file:// URI. Every task runs and finishes, every update is
// acknowledged (the agent ends with no update waiting), messages go both
// ways, and SHUTDOWN of each executor comes back as a FAILURE event.
func TestFrameworkWithCustomExecutor(t *testing.T) {
	bin := buildExecutor(t)
	c := startMaster(t)
	ra := startRealAgent(t, c)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	f := subscribePB(t, c, &mesospb.FrameworkInfo{User: proto.String(me.Username), Name: proto.String("compat-framework")})

	const executors, perExecutor = 4, 5
	offer := f.next(schedulerpb.Event_OFFERS).GetOffers().GetOffers()[0]
	checkOffer(t, offer, false)
	var tasks []*mesospb.TaskInfo
	for e := range executors {
		ex := customExecutor(fmt.Sprintf("exec-%d", e), bin)
		for i := range perExecutor {
			tasks = append(tasks, executorTask(fmt.Sprintf("task-%d-%d", e, i), offer.GetAgentId(), ex, ""))
		}
	}
	f.must(launchCall(offer, tasks...), 202)

	// Read events until every task finished; acknowledge every update.
	states := map[string][]mesospb.TaskState{}
	finished, acked := 0, 0
	f.s.await(60 * time.Second)
	for finished < len(tasks) {
		ev := &schedulerpb.Event{}
		if err := proto.Unmarshal(f.s.mustNext(), ev); err != nil {
			t.Fatal(err)
		}
		switch ev.GetType() {
		case schedulerpb.Event_UPDATE:
			st := ev.GetUpdate().GetStatus()
			if st.TaskId == nil || st.State == nil || st.GetAgentId().GetValue() != ra.id || len(st.GetUuid()) != 16 {
				t.Fatalf("update lacks fields: %v", st)
			}
			id := st.GetTaskId().GetValue()
			states[id] = append(states[id], st.GetState())
			switch st.GetState() {
			case mesospb.TaskState_TASK_RUNNING:
				if st.GetSource() != mesospb.TaskStatus_SOURCE_EXECUTOR {
					t.Fatalf("running update from %s", st.GetSource())
				}
			case mesospb.TaskState_TASK_FINISHED:
				finished++
			default:
				t.Fatalf("task %s: %s (%s) %q", id, st.GetState(), st.GetReason(), st.GetMessage())
			}
			f.ack(st)
			acked++
		case schedulerpb.Event_ERROR, schedulerpb.Event_FAILURE:
			t.Fatalf("unexpected %v", ev)
		}
	}
	for _, tk := range tasks {
		got := states[tk.GetTaskId().GetValue()]
		if len(got) != 2 || got[0] != mesospb.TaskState_TASK_RUNNING || got[1] != mesospb.TaskState_TASK_FINISHED {
			t.Errorf("task %s went through %v", tk.GetTaskId().GetValue(), got)
		}
	}
	t.Logf("%d tasks finished, %d updates acknowledged", finished, acked)

	// Every acknowledgement reached the agent: no update waits there.
	deadline := time.Now().Add(15 * time.Second)
	for {
		gt := agentTasks(t, ra)
		if len(gt.GetCompletedTasks()) == len(tasks) && len(gt.GetTerminatedTasks()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent still waits for acknowledgements: %d terminated, %d completed",
				len(gt.GetTerminatedTasks()), len(gt.GetCompletedTasks()))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Framework → executor → framework.
	agentID := offer.GetAgentId()
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_MESSAGE.Enum(), Message: &schedulerpb.Call_Message{
		AgentId: agentID, ExecutorId: &mesospb.ExecutorID{Value: proto.String("exec-2")}, Data: []byte("ping\x00\xff")}}, 202)
	msg := f.next(schedulerpb.Event_MESSAGE).GetMessage()
	if string(msg.GetData()) != "echo:ping\x00\xff" || msg.GetExecutorId().GetValue() != "exec-2" || msg.GetAgentId().GetValue() != ra.id {
		t.Fatalf("message %v", msg)
	}

	// SHUTDOWN of each executor: it exits 0, the framework hears FAILURE.
	for e := range executors {
		f.must(&schedulerpb.Call{Type: schedulerpb.Call_SHUTDOWN.Enum(), Shutdown: &schedulerpb.Call_Shutdown{
			AgentId: agentID, ExecutorId: &mesospb.ExecutorID{Value: proto.String(fmt.Sprintf("exec-%d", e))}}}, 202)
	}
	gone := map[string]bool{}
	for len(gone) < executors {
		fl := f.next(schedulerpb.Event_FAILURE).GetFailure()
		if fl.GetAgentId().GetValue() != ra.id || fl.Status == nil || fl.GetStatus() != 0 {
			t.Fatalf("failure %v", fl)
		}
		gone[fl.GetExecutorId().GetValue()] = true
	}
}

func agentTasks(t *testing.T, ra *realAgent) *agentpb.Response_GetTasks {
	t.Helper()
	body, _ := proto.Marshal(&agentpb.Call{Type: agentpb.Call_GET_TASKS.Enum()})
	r := post(t, ra.base+"/api/v1", ctProto, ctProto, "", body)
	resp := &agentpb.Response{}
	if r.status != 200 || proto.Unmarshal(r.body, resp) != nil {
		t.Fatalf("GET_TASKS: %d %q", r.status, r.body)
	}
	return resp.GetGetTasks()
}
