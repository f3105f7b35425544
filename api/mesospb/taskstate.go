package mesospb

// Hand-written helpers on the generated types; `go generate` leaves this
// file alone.

// Terminal reports whether a task in state s is over: no further state
// follows (the partition-aware TASK_UNREACHABLE and TASK_UNKNOWN are not
// terminal; a task may come back from them).
func (s TaskState) Terminal() bool {
	switch s {
	case TaskState_TASK_FINISHED, TaskState_TASK_FAILED, TaskState_TASK_KILLED,
		TaskState_TASK_ERROR, TaskState_TASK_LOST, TaskState_TASK_DROPPED,
		TaskState_TASK_GONE, TaskState_TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}
