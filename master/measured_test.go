package master

import (
	"log/slog"
	"testing"

	"github.com/cairnhq/cairn/master/gossip"
)

// gossiped records an agent node's availability record as handleGossip
// would.
func gossiped(t *testing.T, m *Master, node string, measured gossip.Usage) {
	t.Helper()
	meta, err := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleAgent, HTTPPort: 5051, Measured: measured})
	if err != nil {
		t.Fatal(err)
	}
	m.lastSeen[node] = gossip.Member{Name: node, Meta: meta, State: gossip.Alive}
}

func TestMeasuredUsageFromGossip(t *testing.T) {
	m, err := New(Config{WorkDir: t.TempDir(), Hostname: "h"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := m.core
	c.setInfo(mustAddr("10.0.0.1:5050").Addr(), 5050, "h")
	a1 := admit(t, c, "a1", "cpus:4;mem:1024")
	admit(t, c, "a2", "cpus:4;mem:1024")
	a3 := admit(t, c, "a3", "cpus:4;mem:1024")
	admit(t, c, "a4", "cpus:4;mem:1024")
	gossiped(t, m, "agent@a1", gossip.Usage{CPUsMilli: 1500, MemMB: 256, NetRxBps: 1000, NetTxBps: 20})
	gossiped(t, m, "agent@a2", gossip.Usage{CPUsMilli: 250, MemMB: 64, NetRxBps: 24, NetTxBps: 5})
	// a3 is deactivated: its usage is not summed. a4 has a record this
	// build cannot read: it counts as nothing measured.
	gossiped(t, m, "agent@a3", gossip.Usage{CPUsMilli: 9000, MemMB: 9000})
	c.agents[a3].active = false
	m.lastSeen["agent@a4"] = gossip.Member{Name: "agent@a4", Meta: []byte{99, 1, 0}}

	snap := map[string]float64{}
	m.loopMetrics(snap, t0)
	for key, want := range map[string]float64{
		"master/cpus_measured":                    1.75,
		"master/mem_measured_bytes":               320 << 20,
		"master/net_rx_measured_bytes_per_second": 1024,
		"master/net_tx_measured_bytes_per_second": 25,
		"master/cpus_used":                        0, // allocation-based, unchanged
	} {
		if got, ok := snap[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}

	// A newer record replaces the agent's figures.
	gossiped(t, m, "agent@a1", gossip.Usage{CPUsMilli: 500})
	m.loopMetrics(snap, t0)
	if got := snap["master/cpus_measured"]; got != 0.75 {
		t.Errorf("after a1's update: cpus_measured = %v, want 0.75", got)
	}

	byID := map[string]map[string]any{}
	for _, s := range m.legacySlaves() {
		e := s.(map[string]any)
		byID[e["id"].(string)], _ = e["measured_usage"].(map[string]any)
	}
	want := map[string]any{"cpus": 9.0, "mem": 9000.0, "net_rx_bytes_per_second": 0.0, "net_tx_bytes_per_second": 0.0}
	got := byID[string(a3)]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("/slaves %s measured_usage[%s] = %v, want %v", a3, k, got[k], v)
		}
	}
	if got := byID[string(a1)]; got["cpus"] != 0.5 || got["mem"] != 0.0 {
		t.Errorf("/slaves %s measured_usage = %v", a1, got)
	}
}
