package executor

import (
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
)

// task is one task the executor runs: the command executor's only one, or
// one member of a task group of the default executor.
type task struct {
	info     *mesospb.TaskInfo
	pid      int
	group    int  // the LAUNCH_GROUP it came in (default executor); 0 for LAUNCH
	acked    bool // some update of it was acknowledged
	killing  bool
	terminal bool
	// groupKilled: its group is being killed because a member failed; the
	// group is killed once, however many of its tasks end badly.
	groupKilled bool
	escalate    *time.Timer
}

func (t *task) id() string { return t.info.GetTaskId().GetValue() }

// find returns the task with the given id, or nil.
func (e *Executor) find(id string) *task {
	for _, t := range e.tasks {
		if t.id() == id {
			return t
		}
	}
	return nil
}

// byPid returns the task whose process is pid, or nil.
func (e *Executor) byPid(pid int) *task {
	for _, t := range e.tasks {
		if t.pid == pid && pid != 0 {
			return t
		}
	}
	return nil
}

// live reports whether some task has not ended yet.
func (e *Executor) live() bool {
	for _, t := range e.tasks {
		if !t.terminal {
			return true
		}
	}
	return false
}

// over reports whether the executor has run tasks and all of them ended.
func (e *Executor) over() bool { return len(e.tasks) > 0 && !e.live() }

// groupMates are the tasks that go down with ended, a task of a task group
// that ended in state: Mesos's default executor kills the rest of a group
// when one member ends TASK_FAILED or TASK_KILLED (a KILL of one task from
// the scheduler included), but only once per group, and not while the
// whole executor is shutting down anyway. Tasks already being killed keep
// their own kill; tasks not started yet fail on their own.
func groupMates(tasks []*task, ended *task, state mesospb.TaskState, shuttingDown bool) []*task {
	if shuttingDown || ended.groupKilled {
		return nil
	}
	if state != mesospb.TaskState_TASK_FAILED && state != mesospb.TaskState_TASK_KILLED {
		return nil
	}
	var out []*task
	for _, t := range tasks {
		if t.group != ended.group {
			continue
		}
		t.groupKilled = true
		if t != ended && !t.terminal && !t.killing && t.pid != 0 {
			out = append(out, t)
		}
	}
	return out
}
