// Package usage keeps what the agent measures about each container: one
// sample per container per sampling round (every second), in a ring buffer
// of 15 minutes per container, with Mesos ResourceStatistics values (cgroup
// counters) plus Cairn's own figures from the eBPF meters (on-CPU time,
// run-queue delay, network bytes and packets per cgroup, peak RSS, OOM kills).
//
// When the agent shapes bandwidth, a ShapingSource adds each shaped
// container's rate limits and traffic control classes (Sample.Shaping,
// Mesos's net_tx_rate_limit, net_rx_rate_limit and
// net_traffic_control_statistics); Store derives the classes' rates. The
// same path carries each container's TCP figures (active and time-wait
// connections, RTT percentiles from sock_diag) and, for a task with its own
// network namespace, its device's error and drop counters (netsock.go).
//
// Two optional sources add Mesos's remaining memory and disk keys: a
// PressureSource (cgroup v1 memory.pressure_level event counts) and a
// DiskSource (the sandbox's measured size; the limit comes with the
// Target), see memdisk.go.
//
// Containers are keyed by container id; each carries the cgroup v2 id the
// eBPF meters key their counters by (Target.CgroupID).
//
// Two halves, so the decisions are testable without a kernel:
//   - Read (read.go) does the I/O of one round through small interfaces: the
//     cgroup counters of each container and one full read of each meter. It
//     blocks for as long as the sources do; it takes no lock and keeps no
//     state.
//   - Store (store.go) is pure: it turns what Read returned into samples,
//     keeps the rings, remembers containers that ended until they are
//     forgotten, and answers queries (latest sample, history, rates, totals).
//     Time is an input. A Store is not safe for concurrent use: the agent
//     guards it with a mutex and calls Read without holding it.
//
// Statistics, AppendJSON and Proto present a Sample in Mesos terms (the
// JSON object of /monitor/statistics, appended by hand for speed, and the
// ResourceStatistics message).
package usage
