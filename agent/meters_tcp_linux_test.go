package agent

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// TestKernelUsageTCP runs a real agent (cgroup counters, no eBPF) with two
// host-network tasks: one holds a TCP connection over loopback to a server
// in the test that never finishes its answer, the other is idle. The first
// shows exactly that connection, with a loopback round-trip time; the
// second zero connections; neither the device keys (no device of their
// own). GET_CONTAINERS carries the same in protobuf.
func TestKernelUsageTCP(t *testing.T) {
	kerneltest.Root(t)
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		<-hold
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hold) }) // before srv.Close, which waits for the handler
	_, ta := kernelAgent(t, "ctcp", func(c *Config) {
		c.UsageSource = UsageSourceCgroups
	})
	ta.run(t, usageTask("idle", "0.1", "32", "sleep 300"))
	ta.run(t, usageTask("conn", "0.1", "32", "/usr/bin/curl -sS -N -o /dev/null "+srv.URL+"/; sleep 300"))

	var conn, idle map[string]any
	eventually(t, "the connection in the statistics", func() bool {
		_, c, ok := statsOf(t, ta, "e-conn")
		_, i, ok2 := statsOf(t, ta, "e-idle")
		conn, idle = c, i
		n, _ := c["net_tcp_active_connections"].(float64)
		return ok && ok2 && n >= 1
	})
	t.Logf("conn: %v", conn)
	if n := conn["net_tcp_active_connections"]; n != 1.0 {
		t.Errorf("net_tcp_active_connections %v, want curl's one connection", n)
	}
	p50, _ := conn["net_tcp_rtt_microsecs_p50"].(float64)
	p99, _ := conn["net_tcp_rtt_microsecs_p99"].(float64)
	if p50 <= 0 || p99 < p50 || p99 > 1e6 {
		t.Errorf("rtt p50 %v µs, p99 %v µs: want a loopback round trip", p50, p99)
	}
	if n, ok := idle["net_tcp_active_connections"]; !ok || n != 0.0 {
		t.Errorf("idle task: net_tcp_active_connections %v (present %v), want a measured 0", n, ok)
	}
	for _, k := range []string{"net_rx_errors", "net_rx_dropped", "net_tx_errors", "net_tx_dropped", "net_tcp_time_wait_connections"} {
		if v, ok := conn[k]; ok {
			t.Errorf("host-network task has %s = %v", k, v)
		}
	}

	_, r, _ := ta.opCall(t, api.Protobuf, &agentpb.Call{Type: agentpb.Call_GET_CONTAINERS.Enum()})
	var found bool
	for _, c := range r.GetGetContainers().GetContainers() {
		if c.GetExecutorId().GetValue() != "e-conn" {
			continue
		}
		found = true
		rs := c.GetResourceStatistics()
		if rs.GetNetTcpActiveConnections() != 1 || rs.GetNetTcpRttMicrosecsP50() <= 0 || rs.NetRxErrors != nil {
			t.Errorf("GET_CONTAINERS resource_statistics: %v", rs)
		}
	}
	if !found {
		t.Error("GET_CONTAINERS lacks e-conn")
	}
}
