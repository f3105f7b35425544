package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/recordio"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/master/gossip"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// waitFor bounds every wait in these tests: long enough never to fire on a
// healthy machine; it turns a hang into a failure, it measures nothing.
const waitFor = 20 * time.Second

// fakeMaster serves the master's half of the internal protocol and is a
// gossip member, so the agent's membership loop is satisfied.
type fakeMaster struct {
	srv     *httptest.Server
	g       *gossip.Gossip
	updates chan *internalpb.StatusUpdate
	failN   chan struct{} // each token fails one status update with 500
}

func newFakeMaster(t *testing.T) *fakeMaster {
	t.Helper()
	meta, err := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleMaster, HTTPPort: 1, Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gossip.New(gossip.Config{Name: "master@test", BindAddr: "127.0.0.1", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	m := &fakeMaster{g: g, updates: make(chan *internalpb.StatusUpdate, 64), failN: make(chan struct{}, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("/internal/v1/gossip", func(w http.ResponseWriter, r *http.Request) {
		b, _ := proto.Marshal(&internalpb.GossipSeeds{
			Addresses:  []string{g.LocalAddr().String()},
			MasterInfo: masterInfo(),
		})
		w.Write(b)
	})
	mux.HandleFunc("/internal/v1/status_update", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-m.failN:
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		default:
		}
		u := &internalpb.StatusUpdate{}
		if _, err := endpoint.Decode(r, u); err != nil {
			endpoint.Error(w, err)
			return
		}
		m.updates <- u
		w.WriteHeader(http.StatusAccepted)
	})
	m.srv = httptest.NewServer(mux)
	t.Cleanup(func() { m.srv.Close(); g.Close() })
	return m
}

func masterInfo() *mesospb.MasterInfo {
	return &mesospb.MasterInfo{Id: proto.String("m1"), Ip: proto.Uint32(0x7f000001), Port: proto.Uint32(5050), Hostname: proto.String("localhost")}
}

// next returns the next status update the master got.
func (m *fakeMaster) next(t *testing.T) *internalpb.StatusUpdate {
	t.Helper()
	select {
	case u := <-m.updates:
		return u
	case <-time.After(waitFor):
		t.Fatal("no status update reached the master")
		return nil
	}
}

type testAgent struct {
	*Agent
	ctr    *fakeContainerizer
	master *fakeMaster
	url    string
	done   chan error
	cancel context.CancelFunc
	once   sync.Once
}

func testConfig(t *testing.T, m *fakeMaster) Config {
	return Config{
		Master:               m.srv.Listener.Addr().String(),
		IP:                   "127.0.0.1",
		Hostname:             "agent.test",
		WorkDir:              t.TempDir(),
		Resources:            "cpus:2;mem:1024;disk:1000;ports:[31000-32000]",
		Isolation:            "cgroups/cpu,cgroups/mem,cgroups/pids",
		CgroupsEnableCFS:     true,
		CgroupsPidsMax:       100,
		StatusUpdateRetryMin: 20 * time.Millisecond,
		StatusUpdateRetryMax: 100 * time.Millisecond,
		MasterCheckInterval:  50 * time.Millisecond,
		AvailabilityDebounce: time.Millisecond,
		ExecutorBinary:       "/bin/true",
	}
}

// startAgent runs an agent on a fake containerizer and a fake master.
func startAgent(t *testing.T, edit func(*Config, *fakeContainerizer)) *testAgent {
	t.Helper()
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	ctr := newFakeContainerizer()
	if edit != nil {
		edit(&cfg, ctr)
	}
	a, err := New(cfg, testLogger(), WithContainerizer(ctr))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.ctr = ctr
	return ta
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// runAgent runs a until the test ends.
func runAgent(t *testing.T, a *Agent, m *fakeMaster) *testAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testAgent{Agent: a, master: m, done: make(chan error, 1), cancel: cancel}
	go func() { ta.done <- a.Run(ctx) }()
	select {
	case <-a.Ready():
	case err := <-ta.done:
		t.Fatalf("agent stopped before ready: %v", err)
	}
	ta.url = "http://" + a.Addr().String()
	t.Cleanup(ta.stop)
	return ta
}

// stop ends the agent and waits for Run; idempotent.
func (ta *testAgent) stop() {
	ta.once.Do(func() {
		ta.cancel()
		if err := <-ta.done; err != nil {
			panic(err)
		}
	})
}

func (ta *testAgent) post(t *testing.T, path string, msg proto.Message) {
	t.Helper()
	if err := endpoint.Post(context.Background(), http.DefaultClient, ta.url+path, msg, nil); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
}

func (ta *testAgent) register(t *testing.T, id string) {
	ta.post(t, "/internal/v1/registered", &internalpb.Registered{
		AgentId: &mesospb.AgentID{Value: proto.String(id)}, MasterInfo: masterInfo()})
}

func (ta *testAgent) state(t *testing.T) *internalpb.AgentState {
	t.Helper()
	st := &internalpb.AgentState{}
	if err := endpoint.Get(context.Background(), http.DefaultClient, ta.url+"/internal/v1/state", st); err != nil {
		t.Fatal(err)
	}
	return st
}

func fwInfo() *mesospb.FrameworkInfo {
	return &mesospb.FrameworkInfo{User: proto.String("root"), Name: proto.String("test"), Id: &mesospb.FrameworkID{Value: proto.String("fw1")}}
}

func commandTask(id, res string) *mesospb.TaskInfo {
	r := resources.MustParse(res).ToProto("")
	return &mesospb.TaskInfo{
		Name:      proto.String(id),
		TaskId:    &mesospb.TaskID{Value: proto.String(id)},
		AgentId:   &mesospb.AgentID{Value: proto.String("a1")},
		Resources: r,
		Command:   &mesospb.CommandInfo{Value: proto.String("sleep 1")},
	}
}

func (ta *testAgent) run(t *testing.T, tasks ...*mesospb.TaskInfo) {
	ta.post(t, "/internal/v1/run_tasks", &internalpb.RunTasks{FrameworkInfo: fwInfo(), Tasks: tasks})
}

func (ta *testAgent) ack(t *testing.T, u *internalpb.StatusUpdate) {
	ta.post(t, "/internal/v1/status_update_ack", &internalpb.StatusUpdateAck{
		FrameworkId: u.GetFrameworkId(), TaskId: u.GetStatus().GetTaskId(), Uuid: u.GetStatus().GetUuid()})
}

func (ta *testAgent) launched(t *testing.T) containerizer.Spec {
	t.Helper()
	select {
	case s := <-ta.ctr.launched:
		return s
	case <-time.After(waitFor):
		t.Fatal("no container launched")
		return containerizer.Spec{}
	}
}

// testExecutor speaks the executor API over HTTP, as an executor in a
// container would.
type testExecutor struct {
	t      *testing.T
	url    string
	fw, id string
	resp   *http.Response
	events *recordio.Reader
}

func (ta *testAgent) executor(t *testing.T, fw, id string) *testExecutor {
	return &testExecutor{t: t, url: ta.url + "/api/v1/executor", fw: fw, id: id}
}

func (e *testExecutor) call(c *executorpb.Call) *http.Response {
	e.t.Helper()
	c.FrameworkId = &mesospb.FrameworkID{Value: proto.String(e.fw)}
	c.ExecutorId = &mesospb.ExecutorID{Value: proto.String(e.id)}
	b, err := api.JSON.Marshal(c)
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *testExecutor) subscribe() {
	e.t.Helper()
	resp := e.call(&executorpb.Call{Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: &executorpb.Call_Subscribe{}})
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("subscribe: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("stream content type %q", ct)
	}
	e.resp = resp
	e.events = recordio.NewReader(resp.Body, 0)
	e.t.Cleanup(func() { resp.Body.Close() })
}

// next reads the next event of the stream.
func (e *testExecutor) next() *executorpb.Event {
	e.t.Helper()
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { b, err := e.events.Next(); ch <- result{b, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			e.t.Fatalf("read event: %v", r.err)
		}
		ev := &executorpb.Event{}
		if err := api.JSON.Unmarshal(r.b, ev); err != nil {
			e.t.Fatalf("decode event %s: %v", r.b, err)
		}
		return ev
	case <-time.After(waitFor):
		e.t.Fatal("no event on the executor stream")
		return nil
	}
}

func (e *testExecutor) expect(typ executorpb.Event_Type) *executorpb.Event {
	e.t.Helper()
	ev := e.next()
	if ev.GetType() != typ {
		e.t.Fatalf("event %s, want %s: %v", ev.GetType(), typ, ev)
	}
	return ev
}

// update sends an UPDATE and returns the HTTP status.
func (e *testExecutor) update(task string, state mesospb.TaskState, uuid []byte) int {
	e.t.Helper()
	resp := e.call(&executorpb.Call{Type: executorpb.Call_UPDATE.Enum(), Update: &executorpb.Call_Update{
		Status: &mesospb.TaskStatus{
			TaskId: &mesospb.TaskID{Value: proto.String(task)},
			State:  state.Enum(),
			Source: mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
			Uuid:   uuid,
		}}})
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func uuidN(n byte) []byte {
	b := make([]byte, 16)
	b[0], b[15] = 0xca, n
	return b
}
