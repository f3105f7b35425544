package compat

import (
	"encoding/json"
	"os/user"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// agentScene is a master, a real agent and a framework with one running
// task on the custom executor (exec-run, task "held", data "wait") and one
// executor that never subscribes by itself (exec-silent, "sleep 60"), which
// the tests play over raw HTTP.
type agentScene struct {
	c      *cluster
	ra     *realAgent
	f      *pbFramework
	fw     string
	sbox   string // exec-run's sandbox
	silent *mesospb.TaskInfo
}

func startAgentScene(t *testing.T) *agentScene {
	t.Helper()
	bin := buildExecutor(t)
	c := startMaster(t)
	ra := startRealAgent(t, c)
	me, _ := user.Current()
	f := subscribePB(t, c, &mesospb.FrameworkInfo{User: proto.String(me.Username), Name: proto.String("compat-agent-scene")})
	offer := f.next(schedulerpb.Event_OFFERS).GetOffers().GetOffers()[0]
	silent := &mesospb.ExecutorInfo{
		ExecutorId: &mesospb.ExecutorID{Value: proto.String("exec-silent")},
		Command:    &mesospb.CommandInfo{Value: proto.String("sleep 60")},
		// disk makes the agent report disk_limit_bytes for it.
		Resources: []*mesospb.Resource{scalar("cpus", 0.1), scalar("mem", 32), scalar("disk", 16)},
	}
	s := &agentScene{c: c, ra: ra, f: f, fw: f.fid.GetValue(),
		silent: executorTask("quiet", offer.GetAgentId(), silent, "")}
	f.must(launchCall(offer, executorTask("held", offer.GetAgentId(), customExecutor("exec-run", bin), "wait"), s.silent), 202)
	for {
		st := f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
		f.ack(st)
		if st.GetTaskId().GetValue() == "held" && st.GetState() == mesospb.TaskState_TASK_RUNNING {
			break
		}
	}
	st := jsonObj(t, get(t, ra.base+"/state").body)
	for _, fw := range path(st, "frameworks").([]any) {
		for _, ex := range path(fw, "executors").([]any) {
			if str(path(ex, "id")) == "exec-run" {
				s.sbox = str(path(ex, "directory"))
			}
		}
	}
	if s.sbox == "" {
		t.Fatalf("no sandbox for exec-run in /state: %v", st)
	}
	return s
}

// opJSON posts a hand-written JSON operator call to the agent and checks
// the transport: status, exact Content-Type, and the response type.
func (s *agentScene) opJSON(t *testing.T, body string, want int) map[string]any {
	t.Helper()
	r := post(t, s.ra.base+"/api/v1", ctJSON, ctJSON, "", []byte(body))
	if r.status != want {
		t.Fatalf("%s: %d %q, want %d", body, r.status, r.body, want)
	}
	if want != 200 || len(r.body) == 0 {
		return nil
	}
	if ct := r.header.Get("Content-Type"); ct != ctJSON {
		t.Fatalf("%s: Content-Type %q", body, ct)
	}
	m := jsonObj(t, r.body)
	var call map[string]any
	json.Unmarshal([]byte(body), &call)
	if m["type"] != call["type"] {
		t.Fatalf("%s answered with type %v", body, m["type"])
	}
	return m
}

// opPB is opJSON in protobuf: the answer must decode with every required
// field present (proto.Unmarshal checks them).
func (s *agentScene) opPB(t *testing.T, call *agentpb.Call, want int) *agentpb.Response {
	t.Helper()
	b, _ := proto.Marshal(call)
	r := post(t, s.ra.base+"/api/v1", ctProto, ctProto, "", b)
	if r.status != want {
		t.Fatalf("%s: %d %q, want %d", call.GetType(), r.status, r.body, want)
	}
	if want != 200 || len(r.body) == 0 {
		return nil
	}
	if ct := r.header.Get("Content-Type"); ct != ctProto {
		t.Fatalf("%s: Content-Type %q", call.GetType(), ct)
	}
	resp := &agentpb.Response{}
	if err := proto.Unmarshal(r.body, resp); err != nil {
		t.Fatalf("%s: decode (required fields?): %v", call.GetType(), err)
	}
	if resp.GetType().String() != call.GetType().String() {
		t.Fatalf("%s answered with type %s", call.GetType(), resp.GetType())
	}
	return resp
}

func TestAgentOperatorAPI(t *testing.T) {
	s := startAgentScene(t)
	typ := func(ty agentpb.Call_Type) *agentpb.Call { return &agentpb.Call{Type: ty.Enum()} }
	file := s.sbox + "/stdout"

	// JSON, hand-written as in the Mesos docs.
	if m := s.opJSON(t, `{"type":"GET_HEALTH"}`, 200); path(m, "get_health", "healthy") != true {
		t.Errorf("GET_HEALTH %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_VERSION"}`, 200); str(path(m, "get_version", "version_info", "version")) == "" {
		t.Errorf("GET_VERSION %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_FLAGS"}`, 200); len(asList(path(m, "get_flags", "flags"))) == 0 {
		t.Errorf("GET_FLAGS %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}`, 200); !hasName(path(m, "get_metrics", "metrics"), "slave/uptime_secs") {
		t.Errorf("GET_METRICS %v", m)
	}
	s.opJSON(t, `{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":60000000000}}}`, 200)
	if m := s.opJSON(t, `{"type":"GET_LOGGING_LEVEL"}`, 200); path(m, "get_logging_level", "level") != json.Number("1") {
		t.Errorf("GET_LOGGING_LEVEL %v", m)
	}
	if m := s.opJSON(t, `{"type":"LIST_FILES","list_files":{"path":"`+s.sbox+`"}}`, 200); !hasPath(path(m, "list_files", "file_infos"), file) {
		t.Errorf("LIST_FILES %v", m)
	}
	if m := s.opJSON(t, `{"type":"READ_FILE","read_file":{"path":"`+file+`","offset":0}}`, 200); path(m, "read_file", "size") == nil || path(m, "read_file", "data") == nil {
		t.Errorf("READ_FILE %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_STATE"}`, 200); len(asList(path(m, "get_state", "get_tasks", "launched_tasks"))) != 1 ||
		len(asList(path(m, "get_state", "get_executors", "executors"))) != 2 || len(asList(path(m, "get_state", "get_frameworks", "frameworks"))) != 1 {
		t.Errorf("GET_STATE %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_CONTAINERS"}`, 200); len(asList(path(m, "get_containers", "containers"))) != 2 ||
		str(path(m, "get_containers", "containers", 0, "container_id", "value")) == "" {
		t.Errorf("GET_CONTAINERS %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_FRAMEWORKS"}`, 200); str(path(m, "get_frameworks", "frameworks", 0, "framework_info", "id", "value")) != s.fw {
		t.Errorf("GET_FRAMEWORKS %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_EXECUTORS"}`, 200); path(m, "get_executors", "executors", 0, "executor_info", "executor_id") == nil {
		t.Errorf("GET_EXECUTORS %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_TASKS"}`, 200); str(path(m, "get_tasks", "launched_tasks", 0, "state")) != "TASK_RUNNING" ||
		len(asList(path(m, "get_tasks", "queued_tasks"))) != 1 {
		t.Errorf("GET_TASKS %v", m)
	}
	if m := s.opJSON(t, `{"type":"GET_AGENT"}`, 200); str(path(m, "get_agent", "agent_info", "id", "value")) != s.ra.id {
		t.Errorf("GET_AGENT %v", m)
	}

	// Protobuf: the same calls, answers decoded with required fields.
	for _, ty := range []agentpb.Call_Type{agentpb.Call_GET_HEALTH, agentpb.Call_GET_VERSION, agentpb.Call_GET_FLAGS,
		agentpb.Call_GET_METRICS, agentpb.Call_GET_LOGGING_LEVEL, agentpb.Call_GET_STATE, agentpb.Call_GET_CONTAINERS,
		agentpb.Call_GET_FRAMEWORKS, agentpb.Call_GET_EXECUTORS, agentpb.Call_GET_TASKS, agentpb.Call_GET_AGENT} {
		s.opPB(t, typ(ty), 200)
	}
	s.opPB(t, &agentpb.Call{Type: agentpb.Call_SET_LOGGING_LEVEL.Enum(), SetLoggingLevel: &agentpb.Call_SetLoggingLevel{
		Level: proto.Uint32(0), Duration: &mesospb.DurationInfo{Nanoseconds: proto.Int64(1e9)}}}, 200)
	r := s.opPB(t, &agentpb.Call{Type: agentpb.Call_LIST_FILES.Enum(), ListFiles: &agentpb.Call_ListFiles{Path: proto.String(s.sbox)}}, 200)
	if len(r.GetListFiles().GetFileInfos()) == 0 {
		t.Errorf("LIST_FILES %v", r)
	}
	r = s.opPB(t, &agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(), ReadFile: &agentpb.Call_ReadFile{
		Path: proto.String(strings.Replace(file, s.sbox, "/frameworks/"+s.fw+"/executors/exec-run/runs/latest", 1)), Offset: proto.Uint64(0)}}, 200)
	if r.ReadFile == nil {
		t.Errorf("READ_FILE %v", r)
	}

	// Bad calls get Mesos's status codes and messages naming the problem.
	for _, c := range []struct {
		ctype, accept, body string
		want                int
		msg                 string
	}{
		{ctJSON, ctJSON, `{}`, 400, "type"},
		{ctJSON, ctJSON, `{"type":"LIST_FILES"}`, 400, "list_files"},
		{ctJSON, ctJSON, `{"type":"READ_FILE"}`, 400, "read_file"},
		{ctJSON, ctJSON, `{"type":`, 400, ""},
		{"text/plain", ctJSON, `{"type":"GET_HEALTH"}`, 415, ""},
		{ctJSON, "text/html", `{"type":"GET_HEALTH"}`, 406, ""},
		{ctJSON, ctJSON, `{"type":"LAUNCH_NESTED_CONTAINER","launch_nested_container":{"container_id":{"value":"x"}}}`, 501, "LAUNCH_NESTED_CONTAINER"},
		{ctJSON, ctJSON, `{"type":"ATTACH_CONTAINER_OUTPUT","attach_container_output":{"container_id":{"value":"x"}}}`, 501, "ATTACH_CONTAINER_OUTPUT"},
		{ctJSON, ctJSON, `{"type":"GET_RESOURCE_PROVIDERS"}`, 501, "GET_RESOURCE_PROVIDERS"},
		{ctJSON, ctJSON, `{"type":"LIST_FILES","list_files":{"path":"/etc"}}`, 404, ""},
		{ctJSON, ctJSON, `{"type":"READ_FILE","read_file":{"path":"` + s.sbox + `/../../../../../../../meta/agent_id","offset":0}}`, 404, ""},
	} {
		rp := post(t, s.ra.base+"/api/v1", c.ctype, c.accept, "", []byte(c.body))
		if rp.status != c.want || !strings.Contains(string(rp.body), c.msg) {
			t.Errorf("%s (%s): %d %q, want %d containing %q", c.body, c.ctype, rp.status, rp.body, c.want, c.msg)
		}
	}
	if g := get(t, s.ra.base+"/api/v1"); g.status != 405 {
		t.Errorf("GET /api/v1: %d", g.status)
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func hasName(v any, name string) bool {
	for _, e := range asList(v) {
		if str(path(e, "name")) == name {
			return true
		}
	}
	return false
}

func hasPath(v any, p string) bool {
	for _, e := range asList(v) {
		if str(path(e, "path")) == p {
			return true
		}
	}
	return false
}
