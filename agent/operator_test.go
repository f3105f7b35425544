package agent

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// opCall sends one operator call in codec c and decodes the answer.
func (ta *testAgent) opCall(t *testing.T, c api.Codec, call *agentpb.Call) (int, *agentpb.Response, string) {
	t.Helper()
	b, err := c.Marshal(call)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, ta.url+"/api/v1", bytes.NewReader(b))
	req.Header.Set("Content-Type", c.ContentType())
	req.Header.Set("Accept", c.ContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		return res.StatusCode, nil, string(body)
	}
	if ct := res.Header.Get("Content-Type"); ct != c.ContentType() {
		t.Fatalf("%s: Content-Type %q", call.GetType(), ct)
	}
	resp := &agentpb.Response{}
	if err := c.Unmarshal(body, resp); err != nil {
		t.Fatalf("%s: decode %q: %v", call.GetType(), body, err)
	}
	if resp.GetType().String() != call.GetType().String() {
		t.Fatalf("%s answered with type %s", call.GetType(), resp.GetType())
	}
	return res.StatusCode, resp, string(body)
}

func TestOperatorAPI(t *testing.T) {
	var lv slog.LevelVar
	ta := startAgent(t, func(c *Config, _ *fakeContainerizer) { c.LogLevel = &lv })
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	if err := os.WriteFile(filepath.Join(spec.Sandbox, "data.bin"), []byte("\x00\xffhello world"), 0o644); err != nil {
		t.Fatal(err)
	}
	typ := func(t agentpb.Call_Type) *agentpb.Call { return &agentpb.Call{Type: t.Enum()} }
	for _, c := range []api.Codec{api.JSON, api.Protobuf} {
		_, r, _ := ta.opCall(t, c, typ(agentpb.Call_GET_HEALTH))
		if !r.GetGetHealth().GetHealthy() {
			t.Fatalf("health %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_VERSION))
		if r.GetGetVersion().GetVersionInfo().GetVersion() != Version {
			t.Fatalf("version %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_FLAGS))
		if !hasFlag(r.GetGetFlags().GetFlags(), "work_dir", ta.cfg.WorkDir) {
			t.Fatalf("flags %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_METRICS))
		if !hasMetric(r.GetGetMetrics().GetMetrics(), "slave/registered", 1) {
			t.Fatalf("metrics %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_TASKS))
		if tasks := r.GetGetTasks().GetQueuedTasks(); len(tasks) != 1 || tasks[0].GetTaskId().GetValue() != "t1" ||
			tasks[0].GetAgentId().GetValue() != "m1-S1" {
			t.Fatalf("tasks %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_STATE))
		gs := r.GetGetState()
		if len(gs.GetGetFrameworks().GetFrameworks()) != 1 || len(gs.GetGetExecutors().GetExecutors()) != 1 ||
			len(gs.GetGetTasks().GetQueuedTasks()) != 1 {
			t.Fatalf("state %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_AGENT))
		if r.GetGetAgent().GetAgentInfo().GetId().GetValue() != "m1-S1" {
			t.Fatalf("agent %v", r)
		}
		_, r, _ = ta.opCall(t, c, typ(agentpb.Call_GET_CONTAINERS))
		if cs := r.GetGetContainers().GetContainers(); len(cs) != 1 || cs[0].GetContainerId().GetValue() != string(spec.ID) {
			t.Fatalf("containers %v", r)
		}
		_, r, _ = ta.opCall(t, c, &agentpb.Call{Type: agentpb.Call_LIST_FILES.Enum(),
			ListFiles: &agentpb.Call_ListFiles{Path: proto.String(spec.Sandbox)}})
		if !hasFile(r.GetListFiles().GetFileInfos(), filepath.Join(spec.Sandbox, "data.bin"), 13, 0o100644) {
			t.Fatalf("files %v", r)
		}
		_, r, _ = ta.opCall(t, c, &agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(),
			ReadFile: &agentpb.Call_ReadFile{Path: proto.String(spec.Sandbox + "/data.bin"), Offset: proto.Uint64(0), Length: proto.Uint64(7)}})
		if r.GetReadFile().GetSize() != 13 || string(r.GetReadFile().GetData()) != "\x00\xffhello" {
			t.Fatalf("read %v", r)
		}
		// An empty file still has data (a required field), found by fuzzing.
		code, r, body := ta.opCall(t, c, &agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(),
			ReadFile: &agentpb.Call_ReadFile{Path: proto.String(spec.Sandbox + "/stdout"), Offset: proto.Uint64(0)}})
		if code != 200 || r.GetReadFile().GetSize() != 0 || r.GetReadFile().Data == nil {
			t.Fatalf("read empty file: %d %s", code, body)
		}
		_, r, _ = ta.opCall(t, c, &agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(),
			ReadFile: &agentpb.Call_ReadFile{Path: proto.String("/frameworks/fw1/executors/t1/runs/latest/data.bin"), Offset: proto.Uint64(8)}})
		if string(r.GetReadFile().GetData()) != "world" {
			t.Fatalf("read virtual path %v", r)
		}
	}

	// SET_LOGGING_LEVEL takes effect on the logger's level.
	code, _, _ := ta.opCall(t, api.JSON, &agentpb.Call{Type: agentpb.Call_SET_LOGGING_LEVEL.Enum(),
		SetLoggingLevel: &agentpb.Call_SetLoggingLevel{Level: proto.Uint32(2), Duration: &mesospb.DurationInfo{Nanoseconds: proto.Int64(3600e9)}}})
	if code != 200 || lv.Level() != slog.LevelDebug {
		t.Fatalf("set logging level: %d, level %v", code, lv.Level())
	}
	if _, r, _ := ta.opCall(t, api.Protobuf, typ(agentpb.Call_GET_LOGGING_LEVEL)); r.GetGetLoggingLevel().GetLevel() != 2 {
		t.Fatalf("logging level %v", r)
	}

	// The legacy twins: /containers and /flags.
	code, body := ta.raw(t, rawCase{method: "GET", path: "/containers"})
	if code != 200 || !strings.Contains(body, `"container_id":"`+string(spec.ID)+`"`) || !strings.Contains(body, `"statistics":{`) ||
		!strings.Contains(body, `"source":"t1"`) {
		t.Fatalf("/containers: %d %s", code, body)
	}
	if code, body = ta.raw(t, rawCase{method: "GET", path: "/slave(1)/flags"}); code != 200 || !strings.Contains(body, `"work_dir":`) {
		t.Fatalf("/flags: %d %s", code, body)
	}

	bad := []struct {
		call *agentpb.Call
		code int
		msg  string
	}{
		{&agentpb.Call{}, 400, "'type'"},
		{typ(agentpb.Call_LIST_FILES), 400, "'list_files'"},
		{typ(agentpb.Call_READ_FILE), 400, "'read_file'"},
		{typ(agentpb.Call_SET_LOGGING_LEVEL), 400, "'set_logging_level'"},
		{typ(agentpb.Call_LAUNCH_NESTED_CONTAINER), 501, "LAUNCH_NESTED_CONTAINER"},
		{typ(agentpb.Call_ATTACH_CONTAINER_OUTPUT), 501, "ATTACH_CONTAINER_OUTPUT"},
		{typ(agentpb.Call_GET_RESOURCE_PROVIDERS), 501, "GET_RESOURCE_PROVIDERS"},
		{&agentpb.Call{Type: agentpb.Call_LIST_FILES.Enum(), ListFiles: &agentpb.Call_ListFiles{Path: proto.String("/etc")}}, 404, ""},
		{&agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(), ReadFile: &agentpb.Call_ReadFile{
			Path: proto.String(ta.cfg.WorkDir + "/slaves/../meta/agent_id"), Offset: proto.Uint64(0)}}, 404, ""},
		{&agentpb.Call{Type: agentpb.Call_READ_FILE.Enum(), ReadFile: &agentpb.Call_ReadFile{
			Path: proto.String(spec.Sandbox + "/missing"), Offset: proto.Uint64(0)}}, 404, "no such file"},
	}
	for _, b := range bad {
		code, _, msg := ta.opCall(t, api.JSON, b.call)
		if code != b.code || !strings.Contains(msg, b.msg) {
			t.Errorf("%v: %d %q, want %d %q", b.call, code, msg, b.code, b.msg)
		}
	}
}

func hasFlag(fs []*mesospb.Flag, name, value string) bool {
	for _, f := range fs {
		if f.GetName() == name {
			return f.GetValue() == value
		}
	}
	return false
}

func hasMetric(ms []*mesospb.Metric, name string, value float64) bool {
	for _, m := range ms {
		if m.GetName() == name {
			return m.GetValue() == value
		}
	}
	return false
}

func hasFile(fs []*mesospb.FileInfo, path string, size uint64, mode uint32) bool {
	for _, f := range fs {
		if f.GetPath() == path {
			return f.GetSize() == size && f.GetMode() == mode && f.GetMtime().GetNanoseconds() > 0
		}
	}
	return false
}
