package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/cmd/cairn/internal/taskstat"
)

// fakeAgent serves /monitor/statistics for one task whose counters grow
// by a fixed step per request, with a timestamp one second later each
// time, so the rates between any two polls are exact; and
// /monitor/history for the same task.
type fakeAgent struct {
	task, framework string
	ebpf            bool // serve Cairn's eBPF keys too

	mu sync.Mutex
	n  int
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := float64(f.n)
	f.mu.Unlock()
	stats := func(n float64) map[string]any {
		s := map[string]any{
			"timestamp": 1000 + n, "cpus_user_time_secs": 0.2 * n, "cpus_system_time_secs": 0.05 * n,
			"cpus_limit": 0.5, "mem_rss_bytes": 1 << 20, "mem_limit_bytes": 64 << 20, "mem_total_bytes": 2 << 20,
		}
		if f.ebpf {
			s["cpus_runqueue_delay_p50_secs"] = 0.0001
			s["cpus_runqueue_delay_p99_secs"] = 0.004
			s["mem_rss_peak_bytes"] = 3 << 20
			s["net_rx_bytes"], s["net_tx_bytes"] = 100*n, 4096*n
			s["net_rx_packets"], s["net_tx_packets"] = 2*n, 3*n
			s["net_tx_rate_limit"] = 2_500_000
		}
		return s
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/monitor/statistics":
		json.NewEncoder(w).Encode([]map[string]any{{"executor_id": f.task, "executor_name": "", "framework_id": f.framework,
			"source": f.task, "statistics": stats(n)}})
	case "/monitor/history":
		if r.URL.Query().Get("task_id") != f.task || r.URL.Query().Get("since") != "120s" {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		var samples []map[string]any
		for i := range 5 {
			s := stats(float64(i))
			if i == 3 {
				s["mem_rss_bytes"] = 8 << 20
			}
			samples = append(samples, s)
		}
		json.NewEncoder(w).Encode(map[string]any{"framework_id": f.framework, "executor_id": f.task, "task_id": f.task,
			"container_id": "c-" + f.task, "samples": samples})
	default:
		http.NotFound(w, r)
	}
}

// fakeMaster answers GET_AGENTS, GET_FRAMEWORKS and GET_TASKS.
type fakeMaster struct {
	agents []*masterpb.Response_GetAgents_Agent
	tasks  []*mesospb.Task
}

func (f *fakeMaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var call masterpb.Call
	if err := proto.Unmarshal(b, &call); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res := &masterpb.Response{Type: masterpb.Response_Type(masterpb.Response_Type_value[call.GetType().String()]).Enum()}
	switch call.GetType() {
	case masterpb.Call_GET_AGENTS:
		res.GetAgents = &masterpb.Response_GetAgents{Agents: f.agents}
	case masterpb.Call_GET_FRAMEWORKS:
		res.GetFrameworks = &masterpb.Response_GetFrameworks{Frameworks: []*masterpb.Response_GetFrameworks_Framework{{
			FrameworkInfo: &mesospb.FrameworkInfo{Id: &mesospb.FrameworkID{Value: proto.String("fw-1")},
				User: proto.String("u"), Name: proto.String("web")},
			Active: proto.Bool(true), Connected: proto.Bool(true), Recovered: proto.Bool(false),
		}}}
	case masterpb.Call_GET_TASKS:
		res.GetTasks = &masterpb.Response_GetTasks{Tasks: f.tasks}
	default:
		http.Error(w, "not faked", http.StatusNotImplemented)
		return
	}
	out, _ := proto.Marshal(res)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func fakeAgentEntry(id, host, addr string) *masterpb.Response_GetAgents_Agent {
	return &masterpb.Response_GetAgents_Agent{
		AgentInfo: &mesospb.AgentInfo{Id: &mesospb.AgentID{Value: proto.String(id)}, Hostname: proto.String(host)},
		Active:    proto.Bool(true), Version: proto.String("test"), Pid: proto.String("slave(1)@" + addr),
	}
}

// fakeCluster is a master with two live agents (one with the eBPF keys,
// one without) and one that does not answer.
func fakeCluster(t *testing.T) (master string, fm *fakeMaster) {
	a1 := httptest.NewServer(&fakeAgent{task: "spin", framework: "fw-1", ebpf: true})
	a2 := httptest.NewServer(&fakeAgent{task: "sleep", framework: "fw-2"})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()
	t.Cleanup(a1.Close)
	t.Cleanup(a2.Close)
	fm = &fakeMaster{agents: []*masterpb.Response_GetAgents_Agent{
		fakeAgentEntry("S1", "node", a1.Listener.Addr().String()),
		fakeAgentEntry("S2", "node", a2.Listener.Addr().String()),
		fakeAgentEntry("S3", "gone", deadAddr),
	}}
	m := httptest.NewServer(fm)
	t.Cleanup(m.Close)
	return m.Listener.Addr().String(), fm
}

func newTopper(master string, o topOptions) (*topper, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	o.master = master
	if o.sort == "" {
		o.sort = "cpu"
	}
	o.interval, o.timeout = 10*time.Millisecond, 5*time.Second
	return &topper{opts: o, out: &out, errOut: &errOut, http: &http.Client{}, master: operator.New(master, nil)}, &out, &errOut
}

func TestTopOnceJSON(t *testing.T) {
	master, _ := fakeCluster(t)
	tp, out, errOut := newTopper(master, topOptions{once: true, json: true})
	if err := tp.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rows) != 2 {
		t.Fatalf("rows: %s", out)
	}
	byTask := map[string]map[string]any{}
	for _, r := range rows {
		byTask[r["task_id"].(string)] = r
	}
	spin, sleep := byTask["spin"], byTask["sleep"]
	for k, want := range map[string]any{
		"framework_name": "web", "agent_id": "S1", "cpu_percent": 25.0, "cpus_limit": 0.5,
		"runqueue_delay_p99_secs": 0.004, "mem_rss_bytes": float64(1 << 20), "mem_limit_bytes": float64(64 << 20),
		"mem_rss_peak_bytes": float64(3 << 20), "net_rx_bytes_per_second": 100.0, "net_tx_bytes_per_second": 4096.0,
		"net_tx_packets_per_second": 3.0, "net_tx_rate_limit_bytes_per_second": 2.5e6,
	} {
		if spin[k] != want {
			t.Errorf("spin %s = %v, want %v", k, spin[k], want)
		}
	}
	for _, k := range []string{"runqueue_delay_p99_secs", "net_rx_bytes_per_second", "mem_rss_peak_bytes", "net_tx_rate_limit_bytes_per_second"} {
		if v, ok := sleep[k]; !ok || v != nil {
			t.Errorf("sleep %s = %v (present %v), want null: the agent has no such key", k, v, ok)
		}
	}
	if sleep["cpu_percent"] != 25.0 || sleep["framework_name"] != "" {
		t.Errorf("sleep = %v", sleep)
	}
	if !strings.Contains(errOut.String(), "agent S3") || !strings.Contains(errOut.String(), "unreachable") {
		t.Errorf("stderr does not report the dead agent: %q", errOut)
	}
}

func TestTopTableFilter(t *testing.T) {
	master, _ := fakeCluster(t)
	tp, out, _ := newTopper(master, topOptions{once: true, filter: taskstat.Filter{Framework: "web"}})
	if err := tp.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "FRAMEWORK") ||
		strings.Join(strings.Fields(lines[1]), " ") != "web node spin 25.0 4.0ms 1.0MiB 64.0MiB 100B 4.0KiB 2.4MiB" ||
		!strings.Contains(lines[2], "unreachable") {
		t.Errorf("table:\n%s", out)
	}
}

func TestTopMasterDown(t *testing.T) {
	m := httptest.NewServer(http.NotFoundHandler())
	addr := m.Listener.Addr().String()
	m.Close()
	tp, _, _ := newTopper(addr, topOptions{once: true})
	if err := tp.run(context.Background()); err == nil {
		t.Error("--once with no master succeeded")
	}
}

func TestStats(t *testing.T) {
	master, fm := fakeCluster(t)
	fm.tasks = []*mesospb.Task{{Name: proto.String("spin"), TaskId: &mesospb.TaskID{Value: proto.String("spin")},
		FrameworkId: &mesospb.FrameworkID{Value: proto.String("fw-1")}, AgentId: &mesospb.AgentID{Value: proto.String("S1")},
		State: mesospb.TaskState_TASK_RUNNING.Enum()}}
	o := statsOptions{since: 2 * time.Minute, width: 10}
	var out bytes.Buffer
	if err := showStats(context.Background(), operator.New(master, nil), http.DefaultClient, "spin", o, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"task spin of web (fw-1) on agent node (S1), container c-spin: 5 samples over 4s",
		"cpu_percent", "mem_rss_bytes  1.0MiB  1.0MiB  8.0MiB  ▁▁▁█▁", "net_tx_bytes_per_second"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	o.json = true
	out.Reset()
	if err := showStats(context.Background(), operator.New(master, nil), http.DefaultClient, "spin", o, &out); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TaskID      string `json:"task_id"`
		ContainerID string `json:"container_id"`
		AgentID     string `json:"agent_id"`
		Samples     int    `json:"samples"`
		Metrics     []struct {
			Name   string     `json:"name"`
			Values []*float64 `json:"values"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.TaskID != "spin" || doc.ContainerID != "c-spin" || doc.AgentID != "S1" || doc.Samples != 5 ||
		len(doc.Metrics) != len(taskstat.Metrics) || len(doc.Metrics[0].Values) != 5 {
		t.Errorf("json: %s", out.String())
	}

	for _, c := range []struct{ task, framework, want string }{
		{"nope", "", `no running task "nope"`},
		{"spin", "db", `no running task "spin" in a framework "db"`},
	} {
		o.framework = c.framework
		err := showStats(context.Background(), operator.New(master, nil), http.DefaultClient, c.task, o, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("stats %s --framework=%q: %v, want %q", c.task, c.framework, err, c.want)
		}
	}
}

func TestParseOneArg(t *testing.T) {
	for _, args := range [][]string{{"t1", "--since", "5m"}, {"--since=5m", "t1"}} {
		var o statsOptions
		fs := newStatsFlags(&o)
		task, err := parseOneArg(fs, args)
		if err != nil || task != "t1" || o.since != 5*time.Minute {
			t.Errorf("%q: task %q since %v err %v", args, task, o.since, err)
		}
	}
	var o statsOptions
	if _, err := parseOneArg(newStatsFlags(&o), []string{"a", "b"}); err == nil {
		t.Error("two tasks accepted")
	}
	if _, err := parseOneArg(newStatsFlags(&o), nil); err == nil {
		t.Error("no task accepted")
	}
}
