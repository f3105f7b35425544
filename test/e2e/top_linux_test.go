package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/test/cluster"
)

// mesosMetrics are the `cairn top --json` fields built from Mesos's own
// ResourceStatistics keys, which every agent serves: always non-null.
var mesosMetrics = []string{"cpu_percent", "cpus_limit", "mem_rss_bytes", "mem_total_bytes", "mem_limit_bytes"}

// ebpfMetrics are the fields built from Cairn's metered keys, by the
// statistics key each needs. Each must be non-null whenever the agent
// serves its key; the test logs the keys no agent served.
var ebpfMetrics = map[string]string{
	"runqueue_delay_p50_secs":   "cpus_runqueue_delay_p50_secs",
	"runqueue_delay_p99_secs":   "cpus_runqueue_delay_p99_secs",
	"mem_rss_peak_bytes":        "mem_rss_peak_bytes",
	"net_rx_bytes_per_second":   "net_rx_bytes",
	"net_tx_bytes_per_second":   "net_tx_bytes",
	"net_rx_packets_per_second": "net_rx_packets",
	"net_tx_packets_per_second": "net_tx_packets",
}

// TestTopOnceJSON is issue 5's acceptance 5: against a cluster of two
// agents, each running a sleeping and a spinning task, `cairn top --once
// --json`, run on the test's own host (outside the cluster's namespaces,
// over the bridge), lists every running task once with every metric.
func TestTopOnceJSON(t *testing.T) {
	e := newEnv(t, 3)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	e.startAgent("agent1", 1, masterAddr, "--hostname=node1")
	e.startAgent("agent2", 2, masterAddr, "--hostname=node2")
	agents := e.waitAgents(0, 2)

	l := &topLauncher{}
	fw := startFramework(t, masterAddr, "e2e-top", false, l.policy)
	waitRunning(t, fw, 4)

	// The master's view: every running task and its agent.
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	tasks, err := e.operator(0).Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]string{}
	for _, task := range tasks.GetTasks() {
		if task.GetState() == mesospb.TaskState_TASK_RUNNING {
			running[task.GetTaskId().GetValue()] = task.GetAgentId().GetValue()
		}
	}
	if len(running) != 4 {
		t.Fatalf("master lists %d running tasks, want 4: %v", len(running), running)
	}

	// An agent lists a container from its first sample (taken every
	// second) on; until then top has nothing to take a rate from.
	cluster.Eventually(t, startTimeout, func() error {
		for _, a := range agents {
			listed := map[string]bool{}
			for _, id := range monitoredTasks(t, strings.TrimPrefix(a.GetPid(), "slave(1)@")) {
				listed[id] = true
			}
			for id, agent := range running {
				if agent == a.GetAgentInfo().GetId().GetValue() && !listed[id] {
					return fmt.Errorf("agent %s does not list task %s in /monitor/statistics yet", agent, id)
				}
			}
		}
		return nil
	})

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.bin, "top", "--once", "--json", "--interval=2s", "--master="+masterAddr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cairn top --once --json: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("cairn top wrote to stderr (an agent unreachable?):\n%s", stderr.String())
	}
	t.Logf("cairn top --once --json:\n%s", stdout.String())
	var rows []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatalf("cairn top output is not a JSON array: %v\n%s", err, stdout.String())
	}

	// What the agents themselves serve, to tell an agent not metering a
	// key yet from the CLI dropping one.
	served := map[string]bool{}
	for _, a := range agents {
		for k := range statisticsKeys(t, strings.TrimPrefix(a.GetPid(), "slave(1)@")) {
			served[k] = true
		}
	}

	seen := map[string]int{}
	for _, r := range rows {
		id, _ := r["task_id"].(string)
		seen[id]++
		if want, ok := running[id]; !ok {
			t.Errorf("cairn top lists %q, which the master does not run", id)
			continue
		} else if r["agent_id"] != want {
			t.Errorf("task %s: agent_id %v, want %s", id, r["agent_id"], want)
		}
		for _, k := range []string{"framework_id", "framework_name", "agent_hostname", "executor_id"} {
			if s, _ := r[k].(string); s == "" {
				t.Errorf("task %s: %s = %v, want a name", id, k, r[k])
			}
		}
		for _, m := range mesosMetrics {
			if _, ok := r[m].(float64); !ok {
				t.Errorf("task %s: %s = %v, want a number", id, m, r[m])
			}
		}
		for m, key := range ebpfMetrics {
			v, present := r[m]
			if !present {
				t.Errorf("task %s: field %s missing", id, m)
			} else if _, num := v.(float64); served[key] && !num {
				t.Errorf("task %s: %s = %v although the agent serves %s", id, m, v, key)
			}
		}
		if strings.Contains(id, "-spin-") {
			if cpu, _ := r["cpu_percent"].(float64); cpu <= 0 {
				t.Errorf("spinning task %s: cpu_percent %v, want > 0", id, r["cpu_percent"])
			}
		}
	}
	for id := range running {
		if seen[id] != 1 {
			t.Errorf("task %s listed %d times, want once", id, seen[id])
		}
	}
	var unserved []string
	for _, key := range ebpfMetrics {
		if !served[key] {
			unserved = append(unserved, key)
		}
	}
	if len(unserved) > 0 {
		t.Logf("the agents do not serve %v yet: those fields are null and were only checked to be present", unserved)
	}

	checkMeasuredMetrics(t, masterAddr)
	spin := l.spinner()
	for _, a := range agents {
		if a.GetAgentInfo().GetId().GetValue() == running[spin] {
			checkStats(t, e, masterAddr, strings.TrimPrefix(a.GetPid(), "slave(1)@"), spin)
		}
	}
}

// checkMeasuredMetrics: the master's snapshot carries the cluster's
// measured usage, which the agents publish by gossip: the tasks' memory
// shows up there once a record carrying it has arrived.
func checkMeasuredMetrics(t *testing.T, masterAddr string) {
	t.Helper()
	var snap map[string]float64
	cluster.Eventually(t, startTimeout, func() error {
		snap = nil
		getJSON(t, "http://"+masterAddr+"/metrics/snapshot", &snap)
		for _, k := range []string{"master/cpus_measured", "master/mem_measured_bytes",
			"master/net_rx_measured_bytes_per_second", "master/net_tx_measured_bytes_per_second"} {
			if _, ok := snap[k]; !ok {
				return fmt.Errorf("/metrics/snapshot lacks %s", k)
			}
		}
		if snap["master/mem_measured_bytes"] <= 0 {
			return fmt.Errorf("master/mem_measured_bytes is %v with four tasks running", snap["master/mem_measured_bytes"])
		}
		return nil
	})
	t.Logf("measured: %v cpus, %v bytes of memory", snap["master/cpus_measured"], snap["master/mem_measured_bytes"])
}

// checkStats runs `cairn stats` for a spinning task once its agent (at
// addr) serves /monitor/history; it logs and returns when it does not yet.
func checkStats(t *testing.T, e *env, masterAddr, addr, task string) {
	t.Helper()
	res, err := cluster.HTTPClient().Get("http://" + addr + "/monitor/history?task_id=" + task)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		t.Logf("the agent does not serve /monitor/history yet: cairn stats not checked")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.bin, "stats", task, "--json", "--since=30s", "--master="+masterAddr).CombinedOutput()
	if err != nil {
		t.Fatalf("cairn stats %s: %v\n%s", task, err, out)
	}
	var doc struct {
		Samples int `json:"samples"`
		Metrics []struct {
			Name    string   `json:"name"`
			Current *float64 `json:"current"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("cairn stats --json: %v\n%s", err, out)
	}
	if doc.Samples < 2 {
		t.Errorf("cairn stats %s: %d samples, want a history", task, doc.Samples)
	}
	for _, m := range doc.Metrics {
		if m.Name == "cpu_percent" && (m.Current == nil || *m.Current <= 0) {
			t.Errorf("cairn stats %s: cpu_percent now %v, want > 0 for a spinning task", task, m.Current)
		}
	}
	t.Logf("cairn stats %s: %d samples, %d metrics", task, doc.Samples, len(doc.Metrics))
}

// statisticsKeys is every statistics key the agent at addr serves.
func statisticsKeys(t *testing.T, addr string) map[string]bool {
	t.Helper()
	var entries []struct {
		Statistics map[string]any `json:"statistics"`
	}
	getJSON(t, "http://"+addr+"/monitor/statistics", &entries)
	keys := map[string]bool{}
	for _, e := range entries {
		for k := range e.Statistics {
			keys[k] = true
		}
	}
	return keys
}

// monitoredTasks is the `source` of every entry of the agent's
// /monitor/statistics.
func monitoredTasks(t *testing.T, addr string) []string {
	t.Helper()
	var entries []struct {
		Source string `json:"source"`
	}
	getJSON(t, "http://"+addr+"/monitor/statistics", &entries)
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Source)
	}
	return ids
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := cluster.HTTPClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

// topLauncher starts, from its first offer of each agent, a task that
// sleeps and one that spins, and declines everything else for an hour.
type topLauncher struct {
	mu    sync.Mutex
	hosts map[string]bool
	spins []string
}

func (l *topLauncher) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	for _, o := range offers {
		host := o.GetHostname()
		l.mu.Lock()
		if l.hosts == nil {
			l.hosts = map[string]bool{}
		}
		first := !l.hosts[host]
		l.hosts[host] = true
		spin := fmt.Sprintf("top-spin-%s", host)
		if first {
			l.spins = append(l.spins, spin)
		}
		l.mu.Unlock()
		var err error
		if first {
			err = fw.client.Launch(ctx, offerIDs([]*mesospb.Offer{o}), []*mesospb.TaskInfo{
				commandTask("top-sleep-"+host, o, 0.1, 16, "sleep 600"),
				commandTask(spin, o, 0.1, 16, "while :; do :; done"),
			}, refuse(3600))
		} else {
			err = fw.client.Decline(ctx, offerIDs([]*mesospb.Offer{o}), refuse(3600))
		}
		if err != nil {
			return fmt.Errorf("answer offer %s: %w", o.GetId().GetValue(), err)
		}
	}
	return nil
}

// spinner is the id of a spinning task on the first agent offered.
func (l *topLauncher) spinner() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spins[0]
}
