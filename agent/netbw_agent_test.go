package agent

import (
	"strings"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// startShapedAgent is startAgent with network/bandwidth on a fake shaper;
// container c's cgroup id is 1000 + its launch order.
func startShapedAgent(t *testing.T, f *fakeShaper) *testAgent {
	t.Helper()
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.Isolation += ",network/bandwidth"
	cfg.Resources += ";network_bandwidth:100"
	ctr := newFakeContainerizer()
	var mu sync.Mutex
	cgroups := map[ids.ContainerID]uint64{}
	cgroupOf := func(c ids.ContainerID) (uint64, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if cgroups[c] == 0 {
			cgroups[c] = 1001 + uint64(len(cgroups))
		}
		return cgroups[c], true, nil
	}
	a, err := New(cfg, testLogger(), WithContainerizer(ctr), withBandwidthShaper(f, nil, cgroupOf))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.ctr = ctr
	return ta
}

func TestTaskBandwidthLifecycle(t *testing.T) {
	f := newFakeShaper()
	ta := startShapedAgent(t, f)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64;network_bandwidth:20"))
	spec := ta.launched(t)
	eventually(t, "class and cgroup set", func() bool { return f.history() == "reconcile 0; set fw1 20; add 1001 fw1" })

	// Offered like any scalar: the agent's total carries it.
	if got := ta.total.Scalar("network_bandwidth"); got != 100 {
		t.Fatalf("total network_bandwidth %g", got)
	}
	ta.ctr.exit(spec.ID, containerizer.Exit{Code: 0})
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	eventually(t, "cgroup and class removed", func() bool {
		return f.history() == "reconcile 0; set fw1 20; add 1001 fw1; rmcg 1001; remove fw1"
	})
	ta.stop()
	if f.released || !f.closed {
		t.Fatalf("agent stop with no container left: released %v closed %v; want the tree removed", f.released, f.closed)
	}
}

func TestBandwidthTreeKeptForRunningContainers(t *testing.T) {
	f := newFakeShaper()
	ta := startShapedAgent(t, f)
	ta.ctr.mu.Lock()
	ta.ctr.leftovers = []ids.ContainerID{"checkpointed-and-running"}
	ta.ctr.mu.Unlock()
	ta.stop()
	if !f.released || f.closed {
		t.Fatalf("agent stop with a container left: released %v closed %v; want the tree left shaping", f.released, f.closed)
	}
}

func TestTaskBandwidthBeyondTotalRejected(t *testing.T) {
	f := newFakeShaper()
	ta := startShapedAgent(t, f)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("big", "cpus:0.5;mem:64;network_bandwidth:150"))
	u := ta.master.next(t)
	expectUpdate(t, u, "big", mesospb.TaskState_TASK_ERROR)
	if msg := u.GetStatus().GetMessage(); !strings.Contains(msg, "network_bandwidth:150") || !strings.Contains(msg, "100") {
		t.Fatalf("message %q does not say what was asked and what there is", msg)
	}
	if got := f.history(); got != "reconcile 0" {
		t.Fatalf("shaper touched: %s", got)
	}
}

func TestTaskBandwidthFrameworkShutdown(t *testing.T) {
	f := newFakeShaper()
	ta := startShapedAgent(t, f)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64;network_bandwidth:20"))
	ta.launched(t)
	eventually(t, "class set", func() bool { return strings.HasSuffix(f.history(), "add 1001 fw1") })
	ta.post(t, "/internal/v1/shutdown_framework", &internalpb.ShutdownFramework{FrameworkId: fwInfo().GetId()})
	eventually(t, "class removed", func() bool { return strings.HasSuffix(f.history(), "rmcg 1001; remove fw1") })
}

func TestNoBandwidthIsolationShapesNothing(t *testing.T) {
	ta := startAgent(t, func(c *Config, _ *fakeContainerizer) { c.Resources += ";network_bandwidth:100" })
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64;network_bandwidth:20"))
	ta.launched(t)
	if ta.bw != nil {
		t.Fatal("bandwidth record without network/bandwidth in --isolation")
	}
	ta.run(t, commandTask("t2", "cpus:0.5;mem:64;network_bandwidth:101"))
	expectUpdate(t, ta.master.next(t), "t2", mesospb.TaskState_TASK_ERROR)
}

func TestBandwidthStatisticsAndMetrics(t *testing.T) {
	f := newFakeShaper()
	ta := startShapedAgent(t, f)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64;network_bandwidth:20"))
	ta.launched(t)
	var body string
	eventually(t, "rate limit in /monitor/statistics", func() bool {
		var code int
		code, body = ta.raw(t, rawCase{method: "GET", path: "/monitor/statistics"})
		return code == 200 && strings.Contains(body, `"net_tx_rate_limit":2500000`)
	})
	if !strings.Contains(body, `"net_traffic_control_statistics":[{"id":"egress","backlog":0,"bytes":1514,`) {
		t.Fatalf("no traffic control statistics: %s", body)
	}
	if strings.Contains(body, "net_rx_rate_limit") {
		t.Fatalf("ingress of a host-network task is not limited: %s", body)
	}
	_, metrics := ta.raw(t, rawCase{method: "GET", path: "/metrics"})
	for _, want := range []string{
		`cairn_netbw_class_rate_bits_per_second{framework_id="fw1"} 2e+07`,
		`cairn_netbw_class_rate_bits_per_second{framework_id=""} 1e+06`,
		`cairn_netbw_class_bytes_total{framework_id="fw1"} 1514`,
		`cairn_netbw_class_drops_total{framework_id="fw1"} 0`,
		`cairn_netbw_class_overlimits_total{framework_id="fw1"} 0`,
		`cairn_netbw_class_ceil_bits_per_second{framework_id="fw1"} 1e+08`,
		`cairn_netbw_class_packets_total{framework_id="fw1"} 1`,
		`cairn_task_network_transmit_rate_limit_bytes_per_second{executor_id="t1",framework_id="fw1",task_id="t1"} 2.5e+06`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
