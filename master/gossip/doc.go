// Package gossip is Cairn's membership and availability bus: the only
// package that imports hashicorp/memberlist. Masters and agents both join
// one SWIM pool; each publishes an Availability record as its node metadata
// and learns of the others' arrivals, metadata updates, graceful leaves and
// failures.
//
// # I/O
//
// New binds one UDP and one TCP socket on the same port (an ephemeral one
// when BindPort is 0) and starts memberlist's goroutines: probing, gossip,
// push/pull and the listeners. Join dials the seeds over TCP. Close stops
// all of it. The Availability codec (availability.go) is pure.
//
// # Threading
//
// Every method of Gossip is safe for concurrent use.
//
// memberlist calls its delegates from its own goroutines:
//   - the metadata delegate (NodeMeta) concurrently, whenever it builds an
//     alive message; it returns a copy of the bytes set by New or SetMeta,
//     under a mutex.
//   - the event delegate one call at a time, but with memberlist's node
//     lock held. It therefore only copies the node into the member table
//     (what Members reads) and appends an Event to an unbounded queue.
//
// Config.Events is called from a single goroutine owned by the Gossip, one
// event at a time, in the order memberlist produced them. The callback may
// call any Gossip method except Close (Close waits for the callback to
// return). It should return quickly: a slow callback delays the events
// behind it, never failure detection. Events still queued when Close is
// called are dropped; none is delivered after Close returns.
//
// Members is built from the same callbacks, not from memberlist's list,
// whose entries memberlist keeps mutating after handing them out. It may
// show a change slightly before the callback receives the matching Event.
//
// # Leave versus Fail
//
// memberlist reports both a graceful leave and a failure through the same
// callback and does not say which it was. Leave therefore first republishes
// the metadata with a "leaving" flag (one byte this package keeps in front
// of the user's metadata, hence MetaMaxSize is 511) and only then sends
// memberlist's leave; peers that saw the flag report Leave, all others Fail.
//
// # Failure detection
//
// The timing constants in config.go target a Fail event within about 3 s
// of a member's death on a LAN (up to ~5 s in a pool of hundreds) while
// tolerating multi-second stalls of a loaded member; the comment there
// derives the figure. BenchmarkFailureDetection measured a median of 2.8 s
// (3 members) and 3.0 s (5 members) on loopback. Close without Leave is
// indistinguishable, to peers, from kill -9.
package gossip
