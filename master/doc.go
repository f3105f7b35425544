// Package master is the Cairn master daemon: the Mesos v1 scheduler API
// (POST /api/v1/scheduler), the operator API (POST /api/v1, with its
// SUBSCRIBE event stream), the legacy JSON endpoints (/state, /slaves,
// /frameworks, /tasks, /roles, /metrics/snapshot, ..., bare and under
// /master/), agent admission through gossip, and the relay of launches,
// kills, status updates and framework/executor messages between frameworks
// and agents.
//
// Leadership. Only the leading master serves frameworks and the operator
// calls that read or change cluster state; another master answers 307 to the
// leader (503 while none is known), as Mesos does. A single master always
// leads (leader.go keeps the code path for replicated masters).
//
// Structure. The decisions live in core (core*.go): frameworks, agents,
// tasks (the latest state each agent reported), outstanding offers and
// stream ids. Its methods take an event and `now` and return nothing but
// effects collected in core.effects — events for a framework stream, a
// stream to close, a message for an agent — so they are unit-tested without
// a network. The core reads no clock and does no I/O except through the
// Registrar (master/registry), whose operations are durable before the core
// acknowledges anything that depends on them (a framework id, an admission).
// The allocator (master/allocator) is pure and called only by the core.
//
// Threading. One goroutine, the loop (Master.runLoop), owns the core and
// the maps of streams and agent senders. Everything else sends it closures:
// HTTP handlers through Master.do (and wait for the reply), gossip events,
// fetched agent states and failed deliveries through Master.post. After
// each batch of messages the loop allocates if resources were freed or added
// (so a finished task's resources are re-offered within milliseconds, not at
// the next --allocation_interval tick), then performs the effects.
//
// Metrics. /metrics/snapshot and GET_METRICS read the core on the loop;
// allocation runs are timed by the loop around each Allocate call; system/*
// keys come from /proc.
//
// I/O. Each framework stream (and each operator SUBSCRIBE stream) is
// written by its SUBSCRIBE handler goroutine
// from a bounded queue (heartbeats included); a framework that lets the
// queue fill is disconnected rather than allowed to stall the loop. Each
// agent has an ordered sender goroutine that POSTs to /internal/v1/* with
// retries while the agent is admitted; a run_tasks that cannot be delivered
// comes back to the loop and its tasks become TASK_LOST. Gossip
// (master/gossip) reports agents joining and failing; the master fetches a
// joining agent's /internal/v1/state in a goroutine and admits it on the
// loop.
package master
