package master

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/recordio"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// fakeAgent records what the master posts to it.
type fakeAgent struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][][]byte
	ch  chan string // path of every request
}

func newFakeAgent(t *testing.T) *fakeAgent {
	a := &fakeAgent{got: map[string][][]byte{}, ch: make(chan string, 100)}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		path := strings.TrimPrefix(r.URL.Path, "/internal/v1/")
		a.mu.Lock()
		a.got[path] = append(a.got[path], b)
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		a.ch <- path
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// await waits for a request to path and returns its body.
func (a *fakeAgent) await(t *testing.T, path string, msg proto.Message) {
	t.Helper()
	for p := range a.ch {
		if p == path {
			a.mu.Lock()
			b := a.got[path][len(a.got[path])-1]
			a.mu.Unlock()
			if err := proto.Unmarshal(b, msg); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
}

// testMaster runs a master's loop and HTTP handler without gossip.
func testMaster(t testing.TB) (*Master, *httptest.Server) {
	t.Helper()
	m, err := New(Config{
		IP: "127.0.0.1", WorkDir: t.TempDir(), Hostname: "test-master",
		HeartbeatInterval: 20 * time.Millisecond, AllocationInterval: time.Second,
		MaxCompletedFrameworks: 10, MaxCompletedTasksPerFramework: 10,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.ctx = ctx
	m.start = time.Now()
	m.core.setInfo(netip.MustParseAddr("127.0.0.1"), 5050, "test-master")
	go m.runLoop(ctx)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		<-m.loopDone
		m.workers.Wait()
	})
	return m, srv
}

func post(t *testing.T, srv *httptest.Server, path, ctype, accept, streamID string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if streamID != "" {
		req.Header.Set(streamIDHeader, streamID)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func jsonBody(t *testing.T, msg proto.Message) []byte {
	b, err := api.JSON.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventStream reads events from a SUBSCRIBE response.
type eventStream struct {
	res   *http.Response
	r     *recordio.Reader
	codec api.Codec
}

func (s *eventStream) next(t *testing.T) *schedulerpb.Event {
	t.Helper()
	rec, err := s.r.Next()
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	ev := &schedulerpb.Event{}
	if err := s.codec.Unmarshal(rec, ev); err != nil {
		t.Fatalf("decode event %q: %v", rec, err)
	}
	return ev
}

// nextOf skips heartbeats and other events until one of type typ.
func (s *eventStream) nextOf(t *testing.T, typ schedulerpb.Event_Type) *schedulerpb.Event {
	t.Helper()
	for {
		if ev := s.next(t); ev.GetType() == typ {
			return ev
		}
	}
}

func subscribeHTTP(t *testing.T, srv *httptest.Server, accept string, info *mesospb.FrameworkInfo) (*eventStream, string, ids.FrameworkID) {
	t.Helper()
	codec := api.Codec(api.JSON)
	if accept == api.ContentTypeProtobuf {
		codec = api.Protobuf
	}
	res := post(t, srv, "/api/v1/scheduler", api.ContentTypeJSON, accept, "", jsonBody(t, subscribeCall(info)))
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("subscribe: %d %s", res.StatusCode, b)
	}
	t.Cleanup(func() { res.Body.Close() })
	if ct := res.Header.Get("Content-Type"); ct != codec.ContentType() {
		t.Errorf("Content-Type = %q, want %q", ct, codec.ContentType())
	}
	sid := res.Header.Get(streamIDHeader)
	if _, err := uuid.Parse(sid); err != nil {
		t.Errorf("Mesos-Stream-Id %q is not a uuid", sid)
	}
	s := &eventStream{res: res, r: recordio.NewReader(res.Body, recordio.DefaultMaxRecord), codec: codec}
	ev := s.next(t)
	if ev.GetType() != schedulerpb.Event_SUBSCRIBED {
		t.Fatalf("first event %v", ev)
	}
	return s, sid, ids.FrameworkID(ev.GetSubscribed().GetFrameworkId().GetValue())
}

func TestHTTPSubscribeStreams(t *testing.T) {
	for _, accept := range []string{"", api.ContentTypeJSON, api.ContentTypeProtobuf} {
		_, srv := testMaster(t)
		s, _, fid := subscribeHTTP(t, srv, accept, fwInfo())
		if fid == "" {
			t.Fatal("no framework id")
		}
		if s.res.ContentLength != -1 || len(s.res.TransferEncoding) == 0 {
			t.Errorf("stream not chunked: length %d, TE %v", s.res.ContentLength, s.res.TransferEncoding)
		}
		s.nextOf(t, schedulerpb.Event_HEARTBEAT)
	}
}

func TestHTTPSchedulerStatusCodes(t *testing.T) {
	_, srv := testMaster(t)
	_, sid, fid := subscribeHTTP(t, srv, "", fwInfo())
	revive := jsonBody(t, call(fid, schedulerpb.Call_REVIVE))
	sub := jsonBody(t, subscribeCall(fwInfo()))
	for _, tc := range []struct {
		name           string
		ctype, accept  string
		sid            string
		body           []byte
		want           int
		wantBodySubstr string
	}{
		{"subscribe with stream id", api.ContentTypeJSON, "", sid, sub, 400, "Mesos-Stream-Id"},
		{"no stream id", api.ContentTypeJSON, "", "", revive, 400, "Mesos-Stream-Id"},
		{"wrong stream id", api.ContentTypeJSON, "", uuid.NewString(), revive, 400, "didn't match"},
		{"unknown framework", api.ContentTypeJSON, "", sid, jsonBody(t, call("nope", schedulerpb.Call_REVIVE)), 403, ""},
		{"no content type", "", "", sid, revive, 400, ""},
		{"unsupported content type", "text/plain", "", sid, revive, 415, ""},
		{"unacceptable", api.ContentTypeJSON, "text/html", sid, revive, 406, ""},
		{"malformed", api.ContentTypeJSON, "", sid, []byte(`{"type":`), 400, ""},
		{"call without its body", api.ContentTypeJSON, "", sid, jsonBody(t, call(fid, schedulerpb.Call_ACCEPT_INVERSE_OFFERS)), 400, "accept_inverse_offers"},
		{"revive", api.ContentTypeJSON, "", sid, revive, 202, ""},
		{"update framework", api.ContentTypeJSON, "", sid, jsonBody(t, &schedulerpb.Call{
			FrameworkId: frameworkIDpb(fid), Type: schedulerpb.Call_UPDATE_FRAMEWORK.Enum(),
			UpdateFramework: &schedulerpb.Call_UpdateFramework{FrameworkInfo: fwInfo()}}), 200, ""},
	} {
		res := post(t, srv, "/api/v1/scheduler", tc.ctype, tc.accept, tc.sid, tc.body)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, res.StatusCode, b, tc.want)
		}
		if tc.want == 202 && len(b) != 0 {
			t.Errorf("%s: 202 with body %q", tc.name, b)
		}
		if !strings.Contains(string(b), tc.wantBodySubstr) {
			t.Errorf("%s: body %q should mention %q", tc.name, b, tc.wantBodySubstr)
		}
	}
	res, err := srv.Client().Get(srv.URL + "/api/v1/scheduler")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", res.StatusCode)
	}
}

func TestHTTPLaunchUpdateAck(t *testing.T) {
	m, srv := testMaster(t)
	agent := newFakeAgent(t)
	s, sid, fid := subscribeHTTP(t, srv, "", fwInfo())

	u, _ := url.Parse(agent.srv.URL)
	addr := netip.MustParseAddrPort(u.Host)
	var aid ids.AgentID
	m.do(context.Background(), func() {
		st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("fake"),
			Resources: toProto(mustParse("cpus:2;mem:512"), "")}}
		var err error
		if aid, err = m.core.AdmitAgent(st, addr, "", "agent@"+u.Host, time.Now()); err != nil {
			t.Error(err)
		}
	})
	agent.await(t, "registered", &internalpb.Registered{})

	offer := s.nextOf(t, schedulerpb.Event_OFFERS).GetOffers().GetOffers()[0]
	acc := acceptCall(fid, []*mesospb.OfferID{offer.GetId()}, command("t1", offer.GetAgentId(), "cpus:1;mem:128"))
	if res := post(t, srv, "/api/v1/scheduler", api.ContentTypeJSON, "", sid, jsonBody(t, acc)); res.StatusCode != 202 {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	rt := &internalpb.RunTasks{}
	agent.await(t, "run_tasks", rt)
	if len(rt.GetTasks()) != 1 || rt.GetTasks()[0].GetTaskId().GetValue() != "t1" {
		t.Fatalf("run_tasks = %v", rt)
	}

	uid := uuid.New()
	su := statusUpdate(fid, aid, "t1", mesospb.TaskState_TASK_RUNNING, string(uid[:]))
	b, _ := proto.Marshal(su)
	if res := post(t, srv, "/internal/v1/status_update", api.ContentTypeProtobuf, "", "", b); res.StatusCode != 202 {
		t.Fatalf("status_update: %d", res.StatusCode)
	}
	up := s.nextOf(t, schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
	if up.GetState() != mesospb.TaskState_TASK_RUNNING || !bytes.Equal(up.GetUuid(), uid[:]) {
		t.Fatalf("update = %v", up)
	}
	ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
	ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentIDpb(aid), TaskId: taskIDpb("t1"), Uuid: uid[:]}
	if res := post(t, srv, "/api/v1/scheduler", api.ContentTypeJSON, "", sid, jsonBody(t, ack)); res.StatusCode != 202 {
		t.Fatalf("ack: %d", res.StatusCode)
	}
	sa := &internalpb.StatusUpdateAck{}
	agent.await(t, "status_update_ack", sa)
	if !bytes.Equal(sa.GetUuid(), uid[:]) {
		t.Errorf("ack relayed with uuid %x", sa.GetUuid())
	}
}

func TestHTTPStreamCloseRemovesFramework(t *testing.T) {
	m, srv := testMaster(t)
	s, _, fid := subscribeHTTP(t, srv, "", fwInfo())
	s.res.Body.Close()
	srv.CloseClientConnections()
	// Wait until the loop has seen the disconnect.
	for {
		var gone bool
		m.do(context.Background(), func() { _, ok := m.core.frameworks[fid]; gone = !ok })
		if gone {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHTTPOperator(t *testing.T) {
	_, srv := testMaster(t)
	subscribeHTTP(t, srv, "", fwInfo())
	for _, typ := range []masterpb.Call_Type{masterpb.Call_GET_HEALTH, masterpb.Call_GET_VERSION, masterpb.Call_GET_FLAGS,
		masterpb.Call_GET_METRICS, masterpb.Call_GET_LOGGING_LEVEL, masterpb.Call_GET_STATE, masterpb.Call_GET_AGENTS,
		masterpb.Call_GET_FRAMEWORKS, masterpb.Call_GET_EXECUTORS, masterpb.Call_GET_OPERATIONS, masterpb.Call_GET_TASKS,
		masterpb.Call_GET_ROLES, masterpb.Call_GET_WEIGHTS, masterpb.Call_GET_MASTER, masterpb.Call_GET_QUOTA} {
		for _, accept := range []string{api.ContentTypeJSON, api.ContentTypeProtobuf} {
			res := post(t, srv, "/api/v1", api.ContentTypeJSON, accept, "", []byte(`{"type":"`+typ.String()+`"}`))
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != accept {
				t.Errorf("%s: %d %q %s", typ, res.StatusCode, res.Header.Get("Content-Type"), b)
				continue
			}
			resp := &masterpb.Response{}
			codec := api.Codec(api.JSON)
			if accept == api.ContentTypeProtobuf {
				codec = api.Protobuf
			}
			if err := codec.Unmarshal(b, resp); err != nil {
				t.Errorf("%s: decode: %v", typ, err)
				continue
			}
			if resp.GetType().String() != typ.String() {
				t.Errorf("response type %s for %s", resp.GetType(), typ)
			}
		}
	}
	res := post(t, srv, "/api/v1", api.ContentTypeJSON, "", "", []byte(`{"type":"CREATE_VOLUMES"}`))
	res.Body.Close()
	if res.StatusCode != http.StatusNotImplemented {
		t.Errorf("CREATE_VOLUMES: %d, want 501", res.StatusCode)
	}
}

func TestHTTPLegacyState(t *testing.T) {
	_, srv := testMaster(t)
	subscribeHTTP(t, srv, "", fwInfo())
	for _, path := range []string{"/state", "/master/state"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, key := range []string{`"pid":"master@127.0.0.1:5050"`, `"leader":"master@127.0.0.1:5050"`, `"activated_slaves":0`,
			`"frameworks":[{`, `"completed_frameworks":[]`, `"slaves":[]`} {
			if !strings.Contains(string(b), key) {
				t.Errorf("%s lacks %s: %s", path, key, b)
			}
		}
		if strings.Contains(string(b), `"frameworks":[{"pid"`) || strings.Contains(string(b), `"pid":null`) {
			t.Errorf("HTTP framework has a pid: %s", b)
		}
	}
	res, _ := srv.Client().Get(srv.URL + "/health")
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/health: %d", res.StatusCode)
	}
}

func mustJSON(t *testing.T, msg proto.Message) []byte { return jsonBody(t, msg) }

func newReader(r io.Reader) *recordio.Reader { return recordio.NewReader(r, recordio.DefaultMaxRecord) }
