package taskstat

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// statistics answers of one agent, one second apart: task "spin" used 0.5 s
// of CPU in that second and sent 1000 bytes; "idle" has no eBPF keys.
const poll1 = `[
 {"executor_id":"spin","executor_name":"x","framework_id":"fw1","source":"spin",
  "statistics":{"timestamp":100.0,"cpus_user_time_secs":1.0,"cpus_system_time_secs":0.5,
   "cpus_runqueue_delay_p99_secs":0.002,"mem_rss_bytes":1048576,"mem_limit_bytes":33554432,
   "net_rx_bytes":10,"net_tx_bytes":5000,"net_rx_packets":1,"net_tx_packets":4,
   "net_traffic_control_statistics":[]}},
 {"executor_id":"idle-ex","executor_name":"","framework_id":"fw2","source":"",
  "statistics":{"timestamp":100.0,"cpus_user_time_secs":0,"cpus_system_time_secs":0,"mem_rss_bytes":4096}}
]`

const poll2 = `[
 {"executor_id":"spin","executor_name":"x","framework_id":"fw1","source":"spin","container_id":"c1",
  "statistics":{"timestamp":101.0,"cpus_user_time_secs":1.4,"cpus_system_time_secs":0.6,
   "cpus_runqueue_delay_p99_secs":0.003,"mem_rss_bytes":2097152,"mem_limit_bytes":33554432,
   "net_rx_bytes":10,"net_tx_bytes":6000,"net_rx_packets":1,"net_tx_packets":5}},
 {"executor_id":"idle-ex","executor_name":"","framework_id":"fw2","source":"",
  "statistics":{"timestamp":101.0,"cpus_user_time_secs":0.01,"cpus_system_time_secs":0,"mem_rss_bytes":4096}}
]`

func parsePoll(t *testing.T, agent Agent, body string) Poll {
	t.Helper()
	cs, err := ParseStatistics([]byte(body), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return Poll{Agent: agent, Containers: cs}
}

func TestRowsRatesAndAbsentKeys(t *testing.T) {
	a1 := Agent{ID: "S1", Hostname: "node1", Addr: "10.0.0.1:5051"}
	a2 := Agent{ID: "S2", Hostname: "node2", Addr: "10.0.0.2:5051"}
	prev := []Poll{parsePoll(t, a1, poll1)}
	cur := []Poll{parsePoll(t, a1, poll2), {Agent: a2, Err: errors.New("connection refused")}}
	rows, down := Rows(prev, cur, map[string]string{"fw1": "web"})
	if len(rows) != 2 || len(down) != 1 || down[0].Agent.ID != "S2" {
		t.Fatalf("rows %d, down %v", len(rows), down)
	}
	if err := Sort(rows, "task"); err != nil {
		t.Fatal(err)
	}
	idle, spin := rows[0], rows[1]
	if idle.TaskID != "idle-ex" || spin.TaskID != "spin" || spin.FrameworkName != "web" || spin.ContainerID != "c1" {
		t.Fatalf("rows = %+v", rows)
	}
	near := func(name string, r Row, want float64) {
		t.Helper()
		v := r.Get(name)
		if !v.OK || math.Abs(v.V-want) > 1e-9 {
			t.Errorf("%s %s = %+v, want %v", r.TaskID, name, v, want)
		}
	}
	near("cpu_percent", spin, 50)
	near("net_tx_bytes_per_second", spin, 1000)
	near("net_rx_bytes_per_second", spin, 0)
	near("net_tx_packets_per_second", spin, 1)
	near("runqueue_delay_p99_secs", spin, 0.003)
	near("mem_rss_bytes", spin, 2097152)
	near("mem_limit_bytes", spin, 33554432)
	near("cpu_percent", idle, 1)
	for _, name := range []string{"runqueue_delay_p99_secs", "net_rx_bytes_per_second", "mem_rss_peak_bytes", "mem_limit_bytes"} {
		if v := idle.Get(name); v.OK {
			t.Errorf("idle %s = %v, want unmeasured (key absent)", name, v.V)
		}
	}

	// Without a previous round there are gauges but no rates.
	first, _ := Rows(nil, prev, nil)
	if v := first[0].Get("cpu_percent"); v.OK {
		t.Errorf("cpu_percent without a previous poll = %v", v.V)
	}
	if v := first[0].Get("mem_rss_bytes"); !v.OK {
		t.Error("mem_rss_bytes missing on the first poll")
	}
}

func TestRateCounterReset(t *testing.T) {
	m, _ := MetricByName("net_tx_bytes_per_second")
	prev := Sample{At: time.Unix(10, 0), Stats: Stats{"net_tx_bytes": 500}}
	cur := Sample{At: time.Unix(11, 0), Stats: Stats{"net_tx_bytes": 100}}
	if _, ok := m.Value(&prev, cur); ok {
		t.Error("a counter that went back gave a rate")
	}
	if _, ok := m.Value(&cur, cur); ok {
		t.Error("a zero interval gave a rate")
	}
}

func TestCPUPrefersOnCPUTime(t *testing.T) {
	m, _ := MetricByName("cpu_percent")
	at := func(sec int64, s Stats) Sample { return Sample{At: time.Unix(sec, 0), Stats: s} }
	both := at(10, Stats{"cpus_user_time_secs": 1, "cpus_system_time_secs": 0, "cpus_oncpu_time_secs": 1})
	for _, c := range []struct {
		name string
		cur  Sample
		want float64
	}{
		// On-CPU time in both samples wins over the cgroup's user+system.
		{"oncpu", at(11, Stats{"cpus_user_time_secs": 1.2, "cpus_system_time_secs": 0, "cpus_oncpu_time_secs": 1.5}), 50},
		// Without it in one sample (an agent restarted without eBPF): user+system.
		{"fallback", at(11, Stats{"cpus_user_time_secs": 1.2, "cpus_system_time_secs": 0}), 20},
	} {
		v, ok := m.Value(&both, c.cur)
		if !ok || math.Abs(v-c.want) > 1e-9 {
			t.Errorf("%s: cpu_percent = %v %v, want %v", c.name, v, ok, c.want)
		}
	}
}

func TestSortAndFilter(t *testing.T) {
	row := func(task, fw, host string, cpu float64, ok bool) Row {
		r := Row{TaskID: task, FrameworkID: fw + "-0000", FrameworkName: fw, Agent: Agent{ID: host + "-S0", Hostname: host},
			Values: make([]Value, len(Metrics))}
		r.Values[0] = Value{V: cpu, OK: ok}
		return r
	}
	rows := []Row{row("a", "web", "n1", 5, true), row("b", "db", "n2", 0, false), row("c", "web", "n2", 90, true)}
	if err := Sort(rows, "cpu"); err != nil {
		t.Fatal(err)
	}
	if got := rows[0].TaskID + rows[1].TaskID + rows[2].TaskID; got != "cab" {
		t.Errorf("by cpu: %s, want cab (unmeasured last)", got)
	}
	if err := Sort(rows, "bogus"); err == nil {
		t.Error("unknown sort key accepted")
	}
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{Framework: "web"}, "ca"},
		{Filter{Framework: "db-00"}, "b"},
		{Filter{Agent: "n2"}, "cb"},
		{Filter{Framework: "web", Agent: "n2-S0"}, "c"},
		{Filter{Agent: "n3"}, ""},
	} {
		var got string
		for _, r := range c.f.Apply(rows) {
			got += r.TaskID
		}
		if got != c.want {
			t.Errorf("%+v kept %q, want %q", c.f, got, c.want)
		}
	}
}

func TestRowJSONHasEveryMetric(t *testing.T) {
	rows, _ := Rows(nil, []Poll{parsePoll(t, Agent{ID: "S1", Hostname: "h"}, poll1)}, nil)
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	for _, o := range out {
		for _, k := range []string{"framework_id", "framework_name", "agent_id", "agent_hostname", "executor_id", "container_id", "task_id"} {
			if _, ok := o[k].(string); !ok {
				t.Errorf("%s missing or not a string in %v", k, o)
			}
		}
		for _, m := range Metrics {
			if _, ok := o[m.Name]; !ok {
				t.Errorf("%s missing in %v", m.Name, o)
			}
		}
	}
	if out[0]["mem_rss_bytes"] != 1048576.0 || out[0]["cpu_percent"] != nil {
		t.Errorf("first row = %v", out[0])
	}
}

func TestTable(t *testing.T) {
	a := Agent{ID: "S1", Hostname: "node\x1b[2J1"}
	rows, _ := Rows([]Poll{parsePoll(t, a, poll1)}, []Poll{parsePoll(t, a, poll2)}, map[string]string{"fw1": "web"})
	Sort(rows, "cpu")
	var b strings.Builder
	// S2 has no hostname: it is named by address.
	Table(&b, rows, []Poll{{Agent: Agent{ID: "S2", Addr: "10.0.0.2:5051"}, Err: errors.New("timeout")}}, 0)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	want := [][]string{
		{"FRAMEWORK", "AGENT", "TASK", "CPU%", "RQ", "p99", "MEM", "MEM", "LIMIT", "RX/s", "TX/s", "TX", "LIMIT"},
		{"web", "node?[2J1", "spin", "50.0", "3.0ms", "2.0MiB", "32.0MiB", "0B", "1000B", "-"},
		{"fw2", "node?[2J1", "idle-ex", "1.0", "-", "4.0KiB", "-", "-", "-", "-"},
		{"agent", "10.0.0.2:5051", "(10.0.0.2:5051)", "unreachable:", "timeout"},
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l), " "); got != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want %q", i, got, strings.Join(want[i], " "))
		}
	}
}

func TestTableAgentsSharingAHostname(t *testing.T) {
	row := func(id, addr string) Row {
		return Row{TaskID: "t-" + id, Agent: Agent{ID: id, Hostname: "box", Addr: addr}, Values: make([]Value, len(Metrics))}
	}
	var b strings.Builder
	// Only the first row fits; S1 is still named by address, as S2 shares
	// its hostname even though S2's row is not shown.
	Table(&b, []Row{row("S1", "10.0.0.1:5051"), row("S2", "10.0.0.2:5051"), row("S1", "10.0.0.1:5051")}, nil, 1)
	if out := b.String(); !strings.Contains(out, "10.0.0.1:5051") || strings.Contains(out, "box") || !strings.Contains(out, "… 2 more") {
		t.Errorf("agents sharing a hostname not told apart, or rows not cut:\n%s", out)
	}
}

func TestSparkline(t *testing.T) {
	v := func(xs ...float64) []Value {
		out := make([]Value, len(xs))
		for i, x := range xs {
			out[i] = Value{V: x, OK: !math.IsNaN(x)}
		}
		return out
	}
	nan := math.NaN()
	for _, c := range []struct {
		in    []Value
		width int
		want  string
	}{
		{v(0, 1, 2, 3, 4, 5, 6, 7), 8, "▁▂▃▄▅▆▇█"},
		{v(0, 0, 7, 7), 2, "▁█"}, // buckets average
		{v(3, 3, 3), 10, "███"},
		{v(0, 0), 5, "▁▁"},
		{v(nan, 1, 2), 3, " ▁█"},
		{nil, 5, ""},
	} {
		if got := Sparkline(c.in, c.width); got != c.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

func TestHistorySeries(t *testing.T) {
	body := `{"framework_id":"fw","executor_id":"t1","task_id":"t1","container_id":"c1","samples":[
	 {"timestamp":10,"cpus_user_time_secs":1,"cpus_system_time_secs":0,"mem_rss_bytes":100,"net_rx_bytes":0},
	 {"timestamp":11,"cpus_user_time_secs":1.25,"cpus_system_time_secs":0,"mem_rss_bytes":300,"net_rx_bytes":2000},
	 {"cpus_user_time_secs":2.25,"cpus_system_time_secs":0,"mem_rss_bytes":200,"net_rx_bytes":3000}]}`
	h, err := ParseHistory([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if h.TaskID != "t1" || h.ContainerID != "c1" || len(h.Samples) != 3 {
		t.Fatalf("history = %+v", h)
	}
	// The third sample has no timestamp: one second after the second.
	if got := h.Samples[2].At.Sub(h.Samples[1].At); got != time.Second {
		t.Errorf("untimed sample placed %v after the one before", got)
	}
	byName := map[string]Series{}
	for _, s := range SeriesOf(h.Samples) {
		byName[s.Metric.Name] = s
	}
	check := func(name string, cur, lo, hi float64) {
		t.Helper()
		s := byName[name]
		if s.Current.V != cur || s.Min.V != lo || s.Max.V != hi || !s.Current.OK {
			t.Errorf("%s: now %v min %v max %v, want %v %v %v", name, s.Current, s.Min, s.Max, cur, lo, hi)
		}
	}
	check("cpu_percent", 100, 25, 100)
	check("mem_rss_bytes", 200, 100, 300)
	check("net_rx_bytes_per_second", 1000, 1000, 2000)
	if s := byName["runqueue_delay_p99_secs"]; s.Max.OK {
		t.Error("runqueue delay measured without its key")
	}
	var b strings.Builder
	SeriesTable(&b, SeriesOf(h.Samples), 20)
	out := b.String()
	if !strings.Contains(out, "mem_rss_bytes") || strings.Contains(out, "runqueue_delay_p99_secs") {
		t.Errorf("series table:\n%s", out)
	}
	if !strings.Contains(out, "▁█▅") {
		t.Errorf("mem sparkline missing:\n%s", out)
	}
	js, err := json.Marshal(byName["cpu_percent"])
	if err != nil || string(js) != `{"name":"cpu_percent","unit":"percent","current":100,"min":25,"max":100,"values":[null,25,100]}` {
		t.Errorf("json = %s, %v", js, err)
	}
}
