// Package task is the pure state machine of one executor on the agent and
// the tasks it runs: events in (launched, subscribed, status update, kill,
// shutdown, tick, container exit, terminal update acknowledged), effects out
// (send an event to the executor, report a status update, destroy the
// container, release the executor).
//
// In the style of etcd's raft core it does no I/O, starts no goroutine and
// reads no clock: time arrives as the now argument and deadlines are checked
// by Tick. Status updates it creates carry no uuid or timestamp; the shell
// stamps them before handing them to the status update manager.
//
// Threading: an Executor is owned by the agent's state goroutine and must not
// be used concurrently.
package task
