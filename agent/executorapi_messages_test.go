package agent

import (
	"net/http"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"google.golang.org/protobuf/proto"
)

// TestFrameworkMessageAndShutdownExecutor: the master's framework_message
// reaches the subscribed executor as MESSAGE, an executor's MESSAGE is
// accepted (and refused for an unknown executor), shutdown_executor sends
// SHUTDOWN and, once the container exits, the unfinished task fails with
// REASON_EXECUTOR_TERMINATED.
func TestFrameworkMessageAndShutdownExecutor(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, customExecutorTask("t1", "e1", "sleep 30"))
	spec := ta.launched(t)
	ex := ta.executor(t, "fw1", "e1")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)

	ta.post(t, "/internal/v1/framework_message", &internalpb.FrameworkToExecutor{
		FrameworkId: fwInfo().GetId(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("e1")}, Data: []byte("ping\x00")})
	if ev := ex.expect(executorpb.Event_MESSAGE); string(ev.GetMessage().GetData()) != "ping\x00" {
		t.Fatalf("message %v", ev)
	}
	res := ex.call(&executorpb.Call{Type: executorpb.Call_MESSAGE.Enum(), Message: &executorpb.Call_Message{Data: []byte("pong")}})
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("executor MESSAGE: %d", res.StatusCode)
	}
	stranger := ta.executor(t, "fw1", "nobody")
	res = stranger.call(&executorpb.Call{Type: executorpb.Call_MESSAGE.Enum(), Message: &executorpb.Call_Message{Data: []byte("x")}})
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("MESSAGE of an unknown executor: %d", res.StatusCode)
	}
	res = ex.call(&executorpb.Call{Type: executorpb.Call_MESSAGE.Enum()})
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("MESSAGE without message: %d", res.StatusCode)
	}

	ta.post(t, "/internal/v1/shutdown_executor", &internalpb.ShutdownExecutor{
		FrameworkId: fwInfo().GetId(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("e1")}})
	ex.expect(executorpb.Event_SHUTDOWN)
	ta.ctr.exit(spec.ID, containerizer.Exit{Code: 0})
	u := ta.master.next(t)
	if u.GetStatus().GetState() != mesospb.TaskState_TASK_FAILED || u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED {
		t.Fatalf("update %v", u.GetStatus())
	}
}

// TestResubscribeStorm: SUBSCRIBEs of one executor from several clients
// that hang up at once must not crash the agent (a stream closed by its
// handler and, at the same time, by a newer SUBSCRIBE on the loop used to
// close its channel twice).
func TestResubscribeStorm(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, customExecutorTask("t1", "e1", "sleep 30"))
	ta.launched(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex := ta.executor(t, "fw1", "e1")
			for range 300 {
				res := ex.call(&executorpb.Call{Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: &executorpb.Call_Subscribe{}})
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	if ta.state(t).GetAgentInfo() == nil {
		t.Fatal("agent gone")
	}
}
