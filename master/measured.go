package master

import "github.com/cairnhq/cairn/master/gossip"

// Measured usage is what each agent's meters saw its tasks really use
// (eBPF and cgroup counters, summed over its containers). Agents publish it
// in their gossip availability records, so the master learns it with every
// record that gossip brings and never polls for it. The latest record of
// each node is already kept in lastSeen (for re-admission); these helpers
// read the figures from there (loop goroutine).

// measuredOf returns the usage agent a last published, zero when no record
// of its node decodes (not yet gossiped, or a format this build cannot
// read).
func (m *Master) measuredOf(a *agent) gossip.Usage {
	mem, ok := m.lastSeen[a.nodeName]
	if !ok {
		return gossip.Usage{}
	}
	av, err := gossip.UnmarshalAvailability(mem.Meta)
	if err != nil || av.Role != gossip.RoleAgent {
		return gossip.Usage{}
	}
	return av.Measured
}

// measuredMetrics adds the cluster's measured usage to a snapshot: the sum
// over active agents, next to Mesos's allocation-based master/*_used.
func (m *Master) measuredMetrics(snap map[string]float64) {
	var sum gossip.Usage
	for _, a := range m.core.agents {
		if !a.active {
			continue
		}
		u := m.measuredOf(a)
		sum.CPUsMilli += u.CPUsMilli
		sum.MemMB += u.MemMB
		sum.NetRxBps += u.NetRxBps
		sum.NetTxBps += u.NetTxBps
	}
	snap["master/cpus_measured"] = float64(sum.CPUsMilli) / 1000
	snap["master/mem_measured_bytes"] = float64(sum.MemMB) * (1 << 20)
	snap["master/net_rx_measured_bytes_per_second"] = float64(sum.NetRxBps)
	snap["master/net_tx_measured_bytes_per_second"] = float64(sum.NetTxBps)
}

// measuredJSON is an agent's `measured_usage` in /state and /slaves, in
// the units of its flat resource maps (cpus, mem in MB).
func (m *Master) measuredJSON(a *agent) map[string]any {
	u := m.measuredOf(a)
	return map[string]any{
		"cpus":                    float64(u.CPUsMilli) / 1000,
		"mem":                     float64(u.MemMB),
		"net_rx_bytes_per_second": float64(u.NetRxBps),
		"net_tx_bytes_per_second": float64(u.NetTxBps),
	}
}
