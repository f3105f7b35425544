package task

import (
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Restored is a task as the agent's checkpoints left it.
type Restored struct {
	Info  *mesospb.TaskInfo
	State mesospb.TaskState
	// AtExecutor: the executor has the task (it sent an update for it).
	AtExecutor bool
	// Reported: a terminal update exists; Acked: it was acknowledged.
	Reported, Acked bool
}

// Recover rebuilds an executor after an agent restart. Its container is
// taken to be running: the executor is Recovering until it re-subscribes
// or cfg.ReregistrationTimeout after now passes (Tick). A container that
// turns out to be gone is reported through Exited, and a run with nothing
// left (the host rebooted) through Abandon.
func Recover(id ids.ExecutorID, fw ids.FrameworkID, cfg Config, now time.Time, tasks []Restored) *Executor {
	e := &Executor{ID: id, Framework: fw, cfg: cfg, phase: Recovering, deadline: now.Add(cfg.ReregistrationTimeout)}
	for _, r := range tasks {
		e.tasks = append(e.tasks, &Task{Info: r.Info, State: r.State, Sent: r.AtExecutor || r.Reported,
			Reported: r.Reported, Acked: r.Reported && r.Acked})
	}
	return e
}

// Fail ends a live executor at once because the agent cannot keep it
// (e.g. its updates cannot be checkpointed): every task without a terminal
// update fails with reason and msg, and the container is destroyed.
func (e *Executor) Fail(reason mesospb.TaskStatus_Reason, msg string) []Effect {
	if !e.Live() && e.phase != Terminating {
		return nil
	}
	var out []Effect
	for _, t := range e.tasks {
		if !t.Reported {
			out = append(out, e.report(t, mesospb.TaskState_TASK_FAILED, reason, msg)...)
		}
	}
	e.phase = Terminating
	return append(out, e.destroy()...)
}

// Abandon ends an executor that has nothing left to supervise, without
// waiting for a container: every task without a terminal update gets
// state, reason and msg from the agent. Used after a reboot (TASK_LOST or
// TASK_GONE) and by --recover=cleanup. Any container left is the shell's
// to destroy.
func (e *Executor) Abandon(state mesospb.TaskState, reason mesospb.TaskStatus_Reason, msg string) []Effect {
	if e.phase == Exited || e.phase == Released {
		return nil
	}
	e.phase = Exited
	var out []Effect
	for _, t := range e.tasks {
		if !t.Reported {
			out = append(out, e.report(t, state, reason, msg)...)
		}
	}
	return append(out, e.maybeRelease()...)
}
