// Package agent is the Cairn agent daemon: it detects its resources, joins
// the gossip pool and gets admitted by the master, launches tasks in
// containers, serves the v1 executor API to the executors inside them, and
// forwards their status updates reliably to the master.
//
// Structure: the decisions live in two pure cores — agent/task (one
// executor and its tasks) and agent/statusupdate (the reliable update
// streams) — and this package is their shell. One goroutine (loop.go) owns
// all agent state and runs a select loop; HTTP handlers, container waiters,
// status update senders and gossip send it closures over a channel and wait
// for the answer when they need one. Container launches, waits, destroys and
// every network call run in goroutines of their own and report back to the
// loop, so the loop never blocks on the kernel or the network.
//
// Checkpointing and recovery: for frameworks with FrameworkInfo.checkpoint,
// every run, task and status update (and acknowledgement) is written under
// <work_dir>/meta through agent/checkpoint before it takes effect, and such
// executors outlive the agent's shutdown. At start, Run reads the
// checkpoints, lets the pure agent/recovery decide, and carries the plan out
// (recover.go): running containers are re-attached and their executors get
// --executor_reregistration_timeout to re-subscribe, tasks whose executor
// ended meanwhile are reported, unacknowledged updates are resent once the
// master (re-)admits this process, and containers no checkpoint accounts
// for (those of non-checkpointing frameworks) are destroyed.
//
// I/O: HTTP server (executor API, internal protocol, legacy /state), HTTP
// client to the master, gossip (through master/gossip), the containerizer
// (through the small Containerizer interface), and files under --work_dir
// (sandboxes; the agent id and checkpoints in <work_dir>/meta, written
// synchronously by the state loop, fsync included).
//
// Usage (agent/usage, meters*.go): the eBPF meters and cgroup counters are
// read once a second by one sampling goroutine into per-container rings
// (with each container's memory pressure eventfds, cgroup v1, read without
// blocking); a disk watcher goroutine measures sandboxes every
// --container_disk_watch_interval; each round also takes one sock_diag dump
// of the host's TCP sockets (grouped by cgroup) and reads the namespaces of
// tasks with their own network (internal/netdiag);
// /monitor/statistics, /monitor/history, /metrics and GET_CONTAINERS read
// the latest round. Bandwidth isolation (network/bandwidth, netbw*.go):
// netlink and bpf syscalls through isolators/netbw; changes the loop decides
// are queued to one worker goroutine, except the join of a starting
// container, which its launch goroutine applies before the executor can
// report the task running.
//
// Every goroutine the Agent starts is waited for before Run returns.
package agent
