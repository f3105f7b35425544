package agent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// The fuzz targets drive a whole agent (its loop and HTTP handlers, on the
// fake containerizer) with arbitrary operator and executor call bodies in
// both codecs. Executor bodies may name FWID and EXECID, replaced by a
// live framework and executor so mutations reach subscriptions, updates
// and messages, not only the decoder. Every request must be answered
// within fuzzDeadline (a slower answer is a hang) and never with a 500.

const fuzzDeadline = 5 * time.Second

type fuzzAgent struct {
	url    string
	client *http.Client
}

func newFuzzAgent(tb testing.TB) *fuzzAgent {
	master := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	tb.Cleanup(master.Close)
	cfg := Config{
		Master: master.Listener.Addr().String(), IP: "127.0.0.1", Hostname: "agent.fuzz", WorkDir: tb.TempDir(),
		Resources: "cpus:64;mem:65536;disk:1000;ports:[31000-32000]", Isolation: "cgroups/cpu,cgroups/mem,cgroups/pids",
		CgroupsPidsMax: 100, ExecutorBinary: "/bin/true", UsageSource: "cgroups",
		ExecutorShutdownGracePeriod: 50 * time.Millisecond,
	}
	a, err := New(cfg, testLogger(), WithContainerizer(newFakeContainerizer()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	select {
	case <-a.Ready():
	case err := <-done:
		tb.Fatalf("agent stopped: %v", err)
	}
	fa := &fuzzAgent{url: "http://" + a.Addr().String(), client: &http.Client{Timeout: fuzzDeadline}}
	fa.internal(tb, "registered", &internalpb.Registered{AgentId: &mesospb.AgentID{Value: proto.String("m1-S1")}, MasterInfo: masterInfo()})
	return fa
}

func (fa *fuzzAgent) internal(tb testing.TB, path string, msg proto.Message) {
	if err := endpoint.Post(context.Background(), fa.client, fa.url+"/internal/v1/"+path, msg, nil); err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
}

// ensureExecutor (re)launches executor e1 of fw1 with a live task, since
// inputs may end it (a terminal update, a shutdown).
func (fa *fuzzAgent) ensureExecutor(tb testing.TB) {
	fa.internal(tb, "run_tasks", &internalpb.RunTasks{FrameworkInfo: fwInfo(),
		Tasks: []*mesospb.TaskInfo{customExecutorTask("t"+time.Now().Format("150405.000000000"), "e1", "sleep 30")}})
}

// send posts body and checks the answer: in time, never 500, and a 200
// operator answer of the call's type.
func (fa *fuzzAgent) send(t *testing.T, path string, c api.Codec, body []byte, check func(int, []byte)) {
	req, _ := http.NewRequest(http.MethodPost, fa.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", c.ContentType())
	req.Header.Set("Accept", c.ContentType())
	res, err := fa.client.Do(req)
	if err != nil {
		t.Fatalf("no answer within %v: %v", fuzzDeadline, err)
	}
	defer res.Body.Close()
	var b []byte
	if res.StatusCode == http.StatusOK && res.Header.Get("Content-Length") == "" {
		// An executor stream: the headers are the answer.
		b = nil
	} else if b, err = io.ReadAll(res.Body); err != nil {
		t.Fatalf("read answer: %v", err)
	}
	if res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented && res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	if check != nil {
		check(res.StatusCode, b)
	}
}

func codecOf(sel byte) api.Codec {
	if sel&1 == 0 {
		return api.JSON
	}
	return api.Protobuf
}

func FuzzAgentOperatorCall(f *testing.F) {
	for _, s := range []string{
		`{"type":"GET_HEALTH"}`, `{"type":"GET_FLAGS"}`, `{"type":"GET_VERSION"}`,
		`{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}`, `{"type":"GET_LOGGING_LEVEL"}`,
		`{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":1000}}}`,
		`{"type":"LIST_FILES","list_files":{"path":"/frameworks/fw1/executors/e1/runs/latest"}}`,
		`{"type":"READ_FILE","read_file":{"path":"/frameworks/fw1/executors/e1/runs/latest/stdout","offset":0,"length":10}}`,
		`{"type":"READ_FILE","read_file":{"path":"/frameworks/../../meta/agent_id","offset":0}}`,
		`{"type":"GET_STATE"}`, `{"type":"GET_CONTAINERS","get_containers":{"show_nested":true}}`, `{"type":"GET_FRAMEWORKS"}`,
		`{"type":"GET_EXECUTORS"}`, `{"type":"GET_TASKS"}`, `{"type":"GET_AGENT"}`, `{"type":"GET_OPERATIONS"}`,
		`{"type":"LAUNCH_NESTED_CONTAINER","launch_nested_container":{"container_id":{"value":"x"}}}`, `{}`, `{"type":7}`,
	} {
		f.Add(byte(0), []byte(s))
		call := &agentpb.Call{}
		if api.JSON.Unmarshal([]byte(s), call) == nil {
			if b, err := proto.Marshal(call); err == nil {
				f.Add(byte(1), b)
			}
		}
	}
	fa := newFuzzAgent(f)
	fa.ensureExecutor(f)
	f.Fuzz(func(t *testing.T, sel byte, body []byte) {
		c := codecOf(sel)
		fa.send(t, "/api/v1", c, body, func(status int, b []byte) {
			if status != http.StatusOK || len(b) == 0 {
				return
			}
			call, resp := &agentpb.Call{}, &agentpb.Response{}
			if err := c.Unmarshal(body, call); err != nil {
				t.Fatalf("200 to a body that does not decode: %v", err)
			}
			if err := c.Unmarshal(b, resp); err != nil {
				t.Fatalf("undecodable answer %q: %v", b, err)
			}
			if resp.GetType().String() != call.GetType().String() {
				t.Fatalf("%s answered as %s", call.GetType(), resp.GetType())
			}
		})
	})
}

func FuzzExecutorCall(f *testing.F) {
	ids := `"framework_id":{"value":"FWID"},"executor_id":{"value":"EXECID"}`
	for _, s := range []string{
		`{"type":"SUBSCRIBE",` + ids + `,"subscribe":{}}`,
		`{"type":"SUBSCRIBE",` + ids + `,"subscribe":{"unacknowledged_tasks":[{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a"}}],"unacknowledged_updates":[{"framework_id":{"value":"FWID"},"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","uuid":"yv7+AAAAAAAAAAAAAAAAAQ=="}}]}}`,
		`{"type":"UPDATE",` + ids + `,"update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"yv7+AAAAAAAAAAAAAAAAAQ=="}}}`,
		`{"type":"UPDATE",` + ids + `,"update":{"status":{"task_id":{"value":"t1"},"state":"TASK_FINISHED","uuid":"yv7+AAAAAAAAAAAAAAAAAg=="}}}`,
		`{"type":"MESSAGE",` + ids + `,"message":{"data":"aGVsbG8="}}`,
		`{"type":"HEARTBEAT",` + ids + `}`,
		`{"type":"UPDATE",` + ids + `}`, `{"type":"SUBSCRIBE"}`, `{}`,
	} {
		f.Add(byte(0), []byte(s))
		call := &executorpb.Call{}
		live := strings.NewReplacer("FWID", "fw1", "EXECID", "e1").Replace(s)
		if api.JSON.Unmarshal([]byte(live), call) == nil {
			if b, err := proto.Marshal(call); err == nil {
				f.Add(byte(1), b)
			}
		}
	}
	fa := newFuzzAgent(f)
	fa.ensureExecutor(f)
	n := 0
	f.Fuzz(func(t *testing.T, sel byte, body []byte) {
		if n++; n%200 == 0 {
			fa.ensureExecutor(t)
		}
		c := codecOf(sel)
		if c == api.JSON {
			// Protobuf seeds carry the live ids already (a replacement
			// would break their length prefixes).
			body = []byte(strings.NewReplacer("FWID", "fw1", "EXECID", "e1").Replace(string(body)))
		}
		fa.send(t, "/api/v1/executor", c, body, nil)
	})
}
