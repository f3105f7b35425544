package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
)

type rawCase struct {
	name, method, path, ctype, accept, body string
	want                                    int
	msg                                     string // substring of the answer
}

func (ta *testAgent) raw(t *testing.T, c rawCase) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, ta.url+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadInputs(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	ta.launched(t)
	const js = "application/json"
	const pb = "application/x-protobuf"
	sub := `{"type":"SUBSCRIBE","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"},"subscribe":{}}`
	update := func(status string) string {
		return `{"type":"UPDATE","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"},"update":{"status":` + status + `}}`
	}
	goodUUID := `"yv7+AAAAAAAAAAAAAAAAAQ=="`
	cases := []rawCase{
		{"executor GET", "GET", "/api/v1/executor", "", "", "", 405, "POST"},
		{"executor no content type", "POST", "/api/v1/executor", "", "", sub, 400, ""},
		{"executor bad content type", "POST", "/api/v1/executor", "text/plain", "", sub, 415, ""},
		{"executor bad accept", "POST", "/api/v1/executor", js, "text/html", sub, 406, ""},
		{"executor malformed json", "POST", "/api/v1/executor", js, "", `{"type":`, 400, ""},
		{"executor malformed protobuf", "POST", "/api/v1/executor", pb, "", "\xff\xff\xff", 400, ""},
		{"executor no ids", "POST", "/api/v1/executor", js, "", `{"type":"HEARTBEAT"}`, 400, ""},
		{"subscribe unknown executor", "POST", "/api/v1/executor", js, "", strings.Replace(sub, `"t1"`, `"nope"`, 1), 400, "unknown"},
		{"subscribe unknown framework", "POST", "/api/v1/executor", js, "", strings.Replace(sub, `"fw1"`, `"fw9"`, 1), 400, "unknown"},
		{"subscribe without subscribe", "POST", "/api/v1/executor", js, "", strings.Replace(sub, `,"subscribe":{}`, ``, 1), 400, "subscribe"},
		{"update without uuid", "POST", "/api/v1/executor", js, "", update(`{"task_id":{"value":"t1"},"state":"TASK_RUNNING"}`), 400, "uuid"},
		{"update short uuid", "POST", "/api/v1/executor", js, "", update(`{"task_id":{"value":"t1"},"state":"TASK_RUNNING","uuid":"AAE="}`), 400, "uuid"},
		{"update unknown task", "POST", "/api/v1/executor", js, "", update(`{"task_id":{"value":"zz"},"state":"TASK_RUNNING","uuid":` + goodUUID + `}`), 400, "unknown"},
		{"update wrong executor id", "POST", "/api/v1/executor", js, "", update(`{"task_id":{"value":"t1"},"state":"TASK_RUNNING","executor_id":{"value":"other"},"uuid":` + goodUUID + `}`), 400, "executor_id"},
		{"update staging", "POST", "/api/v1/executor", js, "", update(`{"task_id":{"value":"t1"},"state":"TASK_STAGING","uuid":` + goodUUID + `}`), 400, "STAGING"},
		{"update missing update", "POST", "/api/v1/executor", js, "", `{"type":"UPDATE","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"}}`, 400, "update"},
		{"heartbeat", "POST", "/api/v1/executor", js, "", `{"type":"HEARTBEAT","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"}}`, 202, ""},
		{"message", "POST", "/api/v1/executor", js, "", `{"type":"MESSAGE","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"},"message":{"data":"aGk="}}`, 202, ""},
		{"unknown call type", "POST", "/api/v1/executor", js, "", `{"type":"UNKNOWN","framework_id":{"value":"fw1"},"executor_id":{"value":"t1"}}`, 400, ""},

		{"run_tasks GET", "GET", "/internal/v1/run_tasks", "", "", "", 405, ""},
		{"run_tasks garbage", "POST", "/internal/v1/run_tasks", pb, "", "\xff\xff", 400, ""},
		{"run_tasks without framework id", "POST", "/internal/v1/run_tasks", js, "", `{"framework_info":{"user":"u","name":"n"}}`, 400, "framework_info.id"},
		{"registered without id", "POST", "/internal/v1/registered", js, "", `{"agent_id":{"value":""},"master_info":{"id":"m","ip":1,"port":1}}`, 400, "agent_id"},
		{"ack bad uuid", "POST", "/internal/v1/status_update_ack", js, "", `{"framework_id":{"value":"fw1"},"task_id":{"value":"t1"},"uuid":"AAE="}`, 400, "uuid"},
		{"ack unknown task", "POST", "/internal/v1/status_update_ack", js, "", `{"framework_id":{"value":"fw1"},"task_id":{"value":"zz"},"uuid":` + goodUUID + `}`, 202, ""},
		{"kill unknown task", "POST", "/internal/v1/kill_task", js, "", `{"framework_id":{"value":"fw1"},"task_id":{"value":"zz"}}`, 202, ""},
		{"shutdown unknown framework", "POST", "/internal/v1/shutdown_framework", js, "", `{"framework_id":{"value":"fw9"}}`, 202, ""},
		{"state POST", "POST", "/internal/v1/state", js, "", `{}`, 405, ""},

		{"operator GET", "GET", "/api/v1", "", "", "", 405, ""},
		{"operator bad type", "POST", "/api/v1", "text/plain", "", `{}`, 415, ""},
		{"operator no type", "POST", "/api/v1", js, "", `{}`, 400, "type"},
		{"operator health", "POST", "/api/v1", js, "", `{"type":"GET_HEALTH"}`, 200, `"healthy":true`},
		{"operator version", "POST", "/api/v1", js, "", `{"type":"GET_VERSION"}`, 200, `"version_info"`},
		{"operator state", "POST", "/api/v1", js, "", `{"type":"GET_STATE"}`, 200, `"type":"GET_STATE"`},
		{"operator nested container", "POST", "/api/v1", js, "", `{"type":"LAUNCH_NESTED_CONTAINER"}`, 501, "LAUNCH_NESTED_CONTAINER"},

		{"health", "GET", "/health", "", "", "", 200, ""},
		{"legacy state POST", "POST", "/state", js, "", "", 405, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := ta.raw(t, c)
			if code != c.want || !strings.Contains(body, c.msg) {
				t.Fatalf("%s %s: %d %q, want %d containing %q", c.method, c.path, code, body, c.want, c.msg)
			}
		})
	}
}

func TestLegacyState(t *testing.T) {
	ta := startAgent(t, func(c *Config, _ *fakeContainerizer) { c.Attributes = "rack:a;level:3" })
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	ta.launched(t)
	for _, path := range []string{"/state", "/slave(1)/state"} {
		code, body := ta.raw(t, rawCase{method: "GET", path: path})
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		var st struct {
			ID         string         `json:"id"`
			Hostname   string         `json:"hostname"`
			Resources  map[string]any `json:"resources"`
			Frameworks []struct {
				ID        string `json:"id"`
				Executors []struct {
					ID    string `json:"id"`
					Tasks []struct {
						ID    string `json:"id"`
						State string `json:"state"`
					} `json:"tasks"`
				} `json:"executors"`
			} `json:"frameworks"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if st.ID != "m1-S1" || st.Hostname != "agent.test" || st.Resources["cpus"] != 2.0 || st.Resources["ports"] != "[31000-32000]" {
			t.Fatalf("%s: %s", path, body)
		}
		if len(st.Frameworks) != 1 || st.Frameworks[0].ID != "fw1" || len(st.Frameworks[0].Executors) != 1 ||
			len(st.Frameworks[0].Executors[0].Tasks) != 1 || st.Frameworks[0].Executors[0].Tasks[0].State != "TASK_STAGING" {
			t.Fatalf("%s frameworks: %s", path, body)
		}
	}
	info := ta.state(t).GetAgentInfo()
	if len(info.GetAttributes()) != 2 || info.GetAttributes()[1].GetType() != mesospb.Value_SCALAR {
		t.Fatalf("attributes %v", info.GetAttributes())
	}
}

func TestFilesServeSandbox(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	if err := os.WriteFile(filepath.Join(spec.Sandbox, "stdout"), []byte("out!"), 0o644); err != nil {
		t.Fatal(err)
	}
	virtual := "/frameworks/fw1/executors/t1/runs/" + string(spec.ID) + "/stdout"
	for _, path := range []string{"/files/read?offset=0&path=" + virtual, "/slave(1)/files/read?offset=0&path=" + spec.Sandbox + "/stdout"} {
		code, body := ta.raw(t, rawCase{method: "GET", path: path})
		if code != 200 || !strings.Contains(body, `"data":"out!"`) {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
}
