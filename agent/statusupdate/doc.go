// Package statusupdate is the agent's status update manager (SUM): the pure
// core that makes task status updates reliable between the agent and the
// master.
//
// Each task has one stream of updates. The head of a stream is the one update
// in flight: it is (re)sent until the master relays the framework's
// acknowledgement carrying the head's uuid, then the next update becomes the
// head. Resends back off from Config.RetryMin, doubling up to
// Config.RetryMax (Mesos: 10 s to 10 min). Updates whose uuid the stream has
// already seen are duplicates and are ignored; an acknowledgement that does
// not match the head is rejected. A stream ends when its terminal update is
// acknowledged, so a task's terminal state is reported exactly once.
//
// I/O and threading: none. The Manager reads no clock (callers pass now),
// sends nothing (Due returns what to send) and is not safe for concurrent
// use: the agent's state goroutine owns it.
package statusupdate
