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
// I/O: HTTP server (executor API, internal protocol, legacy /state), HTTP
// client to the master, gossip (through master/gossip), the containerizer
// (through the small Containerizer interface), and files under --work_dir
// (sandboxes, the persisted agent id in <work_dir>/meta).
//
// Every goroutine the Agent starts is waited for before Run returns.
package agent
