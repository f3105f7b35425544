package executor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
)

// fakeAgent speaks the agent's side of the executor API: it serves one
// SUBSCRIBE stream at a time, records SUBSCRIBE and UPDATE calls, and
// acknowledges updates unless told not to.
type fakeAgent struct {
	t      testing.TB
	srv    *httptest.Server
	noAck  atomic.Bool
	refuse atomic.Bool // answer UPDATE calls 400
	// refuseSubscribe answers SUBSCRIBE 400, as an agent that forgot the
	// executor does.
	refuseSubscribe atomic.Bool
	// down answers every call 503, as the HTTP server of an agent that is
	// restarting would fail to connect.
	down    atomic.Bool
	subs    chan *executorpb.Call_Subscribe
	updates chan *mesospb.TaskStatus
	fw      *mesospb.FrameworkInfo

	mu     sync.Mutex
	stream *endpoint.Stream
}

func newFakeAgent(t testing.TB) *fakeAgent {
	a := &fakeAgent{
		t:       t,
		subs:    make(chan *executorpb.Call_Subscribe, 16),
		updates: make(chan *mesospb.TaskStatus, 64),
		fw:      &mesospb.FrameworkInfo{User: proto.String("root"), Name: proto.String("test")},
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(func() {
		a.drop()
		a.srv.Close()
	})
	return a
}

func (a *fakeAgent) endpoint() string { return strings.TrimPrefix(a.srv.URL, "http://") }

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	call := &executorpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	if a.down.Load() {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "agent is restarting")
		return
	}
	switch call.GetType() {
	case executorpb.Call_SUBSCRIBE:
		if a.refuseSubscribe.Load() {
			endpoint.Errorf(w, http.StatusBadRequest, "Executor %s is unknown", call.GetExecutorId().GetValue())
			return
		}
		s, err := endpoint.OpenStream(w, codec, nil)
		if err != nil {
			return
		}
		a.mu.Lock()
		if a.stream != nil {
			a.stream.Close()
		}
		a.stream = s
		a.mu.Unlock()
		// SUBSCRIBED goes out before the test hears of the subscription,
		// so that nothing the test sends can overtake it.
		_ = s.Send(&executorpb.Event{
			Type: executorpb.Event_SUBSCRIBED.Enum(),
			Subscribed: &executorpb.Event_Subscribed{
				ExecutorInfo:  &mesospb.ExecutorInfo{ExecutorId: call.GetExecutorId()},
				FrameworkInfo: a.fw,
				AgentInfo:     &mesospb.AgentInfo{Hostname: proto.String("localhost")},
			},
		})
		a.subs <- call.GetSubscribe()
		select {
		case <-s.Done():
		case <-r.Context().Done():
			// Close waits for a Send in progress; the handler must not
			// return under it.
			s.Close()
		}
	case executorpb.Call_UPDATE:
		st := call.GetUpdate().GetStatus()
		if a.refuse.Load() {
			endpoint.Errorf(w, http.StatusBadRequest, "Task %s is unknown", st.GetTaskId().GetValue())
			return
		}
		w.WriteHeader(http.StatusAccepted)
		a.updates <- st
		if !a.noAck.Load() {
			a.ack(st)
		}
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (a *fakeAgent) ack(st *mesospb.TaskStatus) {
	a.mu.Lock()
	dropped := a.stream == nil
	a.mu.Unlock()
	if dropped {
		return // like an agent that died before acknowledging
	}
	a.send(&executorpb.Event{
		Type:         executorpb.Event_ACKNOWLEDGED.Enum(),
		Acknowledged: &executorpb.Event_Acknowledged{TaskId: st.GetTaskId(), Uuid: st.GetUuid()},
	})
}

func (a *fakeAgent) send(ev *executorpb.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stream == nil {
		a.t.Errorf("no stream to send %s on", ev.GetType())
		return
	}
	if err := a.stream.Send(ev); err != nil && ev.GetType() != executorpb.Event_ACKNOWLEDGED {
		a.t.Errorf("send %s: %v", ev.GetType(), err)
	}
}

// drop ends the current stream, as an agent that dies would.
func (a *fakeAgent) drop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stream != nil {
		a.stream.Close()
		a.stream = nil
	}
}

func (a *fakeAgent) launch(task *mesospb.TaskInfo) {
	a.send(&executorpb.Event{Type: executorpb.Event_LAUNCH.Enum(), Launch: &executorpb.Event_Launch{Task: task}})
}

func (a *fakeAgent) kill(id string, grace time.Duration) {
	a.send(&executorpb.Event{Type: executorpb.Event_KILL.Enum(), Kill: &executorpb.Event_Kill{
		TaskId:     &mesospb.TaskID{Value: &id},
		KillPolicy: &mesospb.KillPolicy{GracePeriod: &mesospb.DurationInfo{Nanoseconds: proto.Int64(int64(grace))}},
	}})
}

// waitTimeout only bounds a hung test; no assertion depends on it.
const waitTimeout = 20 * time.Second

func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// expect reads the next update and checks its state (and message, if given).
func (a *fakeAgent) expect(state mesospb.TaskState, msg string) *mesospb.TaskStatus {
	a.t.Helper()
	st := recv(a.t, a.updates, state.String())
	if st.GetState() != state {
		a.t.Fatalf("update state = %s (%q), want %s", st.GetState(), st.GetMessage(), state)
	}
	if msg != "" && st.GetMessage() != msg {
		a.t.Fatalf("update %s message = %q, want %q", state, st.GetMessage(), msg)
	}
	if len(st.GetUuid()) != 16 || st.GetSource() != mesospb.TaskStatus_SOURCE_EXECUTOR ||
		st.GetExecutorId().GetValue() == "" || st.GetTimestamp() == 0 {
		a.t.Fatalf("update %s lacks uuid/source/executor_id/timestamp: %v", state, st)
	}
	return st
}

func shellTask(id, cmd string) *mesospb.TaskInfo {
	return &mesospb.TaskInfo{
		Name:    proto.String(id),
		TaskId:  &mesospb.TaskID{Value: proto.String(id)},
		AgentId: &mesospb.AgentID{Value: proto.String("agent-S0")},
		Command: &mesospb.CommandInfo{Value: proto.String(cmd)},
	}
}

func shutdownEvent() *executorpb.Event {
	return &executorpb.Event{Type: executorpb.Event_SHUTDOWN.Enum()}
}

func (a *fakeAgent) launchGroup(tasks ...*mesospb.TaskInfo) {
	a.send(&executorpb.Event{Type: executorpb.Event_LAUNCH_GROUP.Enum(), LaunchGroup: &executorpb.Event_LaunchGroup{
		TaskGroup: &mesospb.TaskGroupInfo{Tasks: tasks},
	}})
}

// until reads updates until each task named in want has sent want's state,
// and returns every task's states in the order they came.
func (a *fakeAgent) until(want map[string]mesospb.TaskState) map[string][]mesospb.TaskState {
	a.t.Helper()
	got := map[string][]mesospb.TaskState{}
	pending := len(want)
	for pending > 0 {
		st := recv(a.t, a.updates, "task group updates")
		id := st.GetTaskId().GetValue()
		got[id] = append(got[id], st.GetState())
		if w, ok := want[id]; ok && st.GetState() == w {
			pending--
		}
	}
	return got
}
