// Package recovery decides what a restarted agent does with what it
// checkpointed: which executors to wait for, which tasks to report and how,
// which containers to destroy and which checkpoints to forget.
//
// Plan is a pure function of the checkpointed state, the containers the
// containerizer still lists, the host's boot id and the --recover mode; the
// agent carries the plan out. No I/O, no clock, no goroutines.
package recovery
