package task

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Phase is where an executor is in its life.
type Phase int

const (
	// Launching: the container is being created or runs, but the executor
	// has not subscribed yet.
	Launching Phase = iota + 1
	// Running: the executor subscribed; its tasks were sent to it.
	Running
	// Terminating: the agent asked for the executor to go (shutdown, or a
	// registration timeout) and waits for the container to exit.
	Terminating
	// Exited: the container is gone; the executor waits for the terminal
	// updates of its tasks to be acknowledged.
	Exited
	// Released: everything is acknowledged; the shell forgets the executor.
	Released
	// Recovering: restored from checkpoints after an agent restart, with
	// its container still running; the executor has until the
	// re-registration deadline to re-subscribe.
	Recovering
)

func (p Phase) String() string {
	return [...]string{"unknown", "launching", "running", "terminating", "exited", "released", "recovering"}[max(0, min(int(p), 6))]
}

// Errors from Update and Kill.
var (
	ErrUnknownTask = errors.New("unknown task")
	ErrTerminal    = errors.New("task is already terminal")
)

// Config are the timeouts an executor lives by.
type Config struct {
	RegistrationTimeout time.Duration
	ShutdownGrace       time.Duration
	// ReregistrationTimeout bounds how long a recovered executor may take
	// to re-subscribe (--executor_reregistration_timeout).
	ReregistrationTimeout time.Duration
}

// Task is one task of the executor as the agent knows it.
type Task struct {
	Info  *mesospb.TaskInfo
	State mesospb.TaskState
	// Sent is true once the task went to the executor in a LAUNCH.
	Sent bool
	// Reported is true once a terminal update was accepted for the task.
	Reported bool
	// Acked is true once the terminal update was acknowledged.
	Acked bool

	// killPolicy is set when a kill of a task the executor has arrived
	// while it was recovering; the KILL goes out when it re-subscribes.
	killPending bool
	killPolicy  *mesospb.KillPolicy
}

// Exit describes how the container ended.
type Exit struct {
	Code      int
	Signal    string
	OOMKilled bool
	// MemoryLimit describes the limit for the message when OOMKilled, for
	// example "requested 64MB".
	MemoryLimit string
	// LaunchError is set when the container never started.
	LaunchError string
	// Unknown is set when the container ended while no agent watched it, so
	// nobody could collect its exit status.
	Unknown bool
}

// Executor is one executor (one container) and its tasks.
type Executor struct {
	ID        ids.ExecutorID
	Framework ids.FrameworkID
	cfg       Config
	phase     Phase
	deadline  time.Time // registration deadline (Launching) or kill deadline (Terminating)
	destroyed bool      // a Destroy effect was already emitted for a running container
	tasks     []*Task
}

// New starts an executor in Launching with its first tasks queued; the
// registration deadline runs from now.
func New(id ids.ExecutorID, fw ids.FrameworkID, cfg Config, now time.Time, tasks ...*mesospb.TaskInfo) *Executor {
	e := &Executor{ID: id, Framework: fw, cfg: cfg, phase: Launching, deadline: now.Add(cfg.RegistrationTimeout)}
	for _, t := range tasks {
		e.tasks = append(e.tasks, &Task{Info: t, State: mesospb.TaskState_TASK_STAGING})
	}
	return e
}

// Phase is the executor's phase.
func (e *Executor) Phase() Phase { return e.phase }

// Tasks lists the executor's tasks in launch order. Callers must not modify them.
func (e *Executor) Tasks() []*Task { return e.tasks }

// Task finds a task by id.
func (e *Executor) Task(id ids.TaskID) *Task {
	for _, t := range e.tasks {
		if t.Info.GetTaskId().GetValue() == string(id) {
			return t
		}
	}
	return nil
}

// Live reports whether the executor still accepts tasks.
func (e *Executor) Live() bool {
	return e.phase == Launching || e.phase == Running || e.phase == Recovering
}

// Add queues another task for a live executor; when the executor already
// subscribed the task is sent at once.
func (e *Executor) Add(info *mesospb.TaskInfo) []Effect {
	t := &Task{Info: info, State: mesospb.TaskState_TASK_STAGING}
	e.tasks = append(e.tasks, t)
	if e.phase == Running {
		t.Sent = true
		return []Effect{SendLaunch{Task: info}}
	}
	return nil
}

// Subscribed handles the executor's SUBSCRIBE (also a re-subscribe).
// known are the tasks the executor says it has (its unacknowledged tasks):
// they are never sent again.
func (e *Executor) Subscribed(known ...ids.TaskID) []Effect {
	switch e.phase {
	case Launching, Running, Recovering:
		e.phase = Running
		for _, id := range known {
			if t := e.Task(id); t != nil {
				t.Sent = true
			}
		}
		var out []Effect
		for _, t := range e.tasks {
			if !t.Sent && !t.Reported {
				t.Sent = true
				out = append(out, SendLaunch{Task: t.Info})
			}
			if t.killPending && !t.Reported {
				out = append(out, SendKill{TaskID: ids.TaskID(t.Info.GetTaskId().GetValue()), Policy: t.killPolicy})
			}
			t.killPending, t.killPolicy = false, nil
		}
		return out
	case Terminating:
		return []Effect{SendShutdown{}}
	}
	return nil
}

// Update records a status update the executor sent (after the shell's
// rewrites, e.g. for OOM). The caller adds it to the status update manager
// only when Update returns nil.
func (e *Executor) Update(st *mesospb.TaskStatus) error {
	t := e.Task(ids.TaskID(st.GetTaskId().GetValue()))
	if t == nil {
		return fmt.Errorf("update task %s: %w", st.GetTaskId().GetValue(), ErrUnknownTask)
	}
	if t.Reported {
		return fmt.Errorf("update task %s: %w", st.GetTaskId().GetValue(), ErrTerminal)
	}
	t.State = st.GetState()
	t.Reported = terminal(t.State)
	return nil
}

// Kill handles the master's KillTask.
func (e *Executor) Kill(id ids.TaskID, policy *mesospb.KillPolicy) ([]Effect, error) {
	t := e.Task(id)
	if t == nil {
		return nil, fmt.Errorf("kill task %s: %w", id, ErrUnknownTask)
	}
	if t.Reported {
		return nil, nil
	}
	if e.phase == Recovering && t.Sent {
		t.killPending, t.killPolicy = true, policy
		return nil, nil
	}
	switch e.phase {
	case Launching, Recovering:
		out := e.report(t, mesospb.TaskState_TASK_KILLED, mesospb.TaskStatus_REASON_TASK_KILLED_DURING_LAUNCH,
			"Task killed before the executor subscribed")
		if !e.anyLive() {
			e.phase = Terminating
			out = append(out, e.destroy()...)
		}
		return out, nil
	case Running, Terminating:
		if t.Sent {
			return []Effect{SendKill{TaskID: id, Policy: policy}}, nil
		}
		return e.report(t, mesospb.TaskState_TASK_KILLED, mesospb.TaskStatus_REASON_TASK_KILLED_DURING_LAUNCH,
			"Task killed before it was launched"), nil
	}
	return nil, nil
}

// Shutdown asks the executor to go (framework shutdown, agent shutdown). A
// subscribed executor gets SHUTDOWN and ShutdownGrace to exit before the
// container is destroyed; one that never subscribed is destroyed at once and
// its tasks are killed.
func (e *Executor) Shutdown(now time.Time, reason mesospb.TaskStatus_Reason) []Effect {
	switch e.phase {
	case Launching, Recovering:
		var out []Effect
		for _, t := range e.tasks {
			if !t.Reported {
				out = append(out, e.report(t, mesospb.TaskState_TASK_KILLED, reason, "Executor shut down before it subscribed")...)
			}
		}
		e.phase = Terminating
		return append(out, e.destroy()...)
	case Running:
		e.phase = Terminating
		e.deadline = now.Add(e.cfg.ShutdownGrace)
		return []Effect{SendShutdown{}}
	}
	return nil
}

// Tick checks deadlines at now.
func (e *Executor) Tick(now time.Time) []Effect {
	if now.Before(e.deadline) {
		return nil
	}
	switch e.phase {
	case Launching:
		var out []Effect
		for _, t := range e.tasks {
			if !t.Reported {
				out = append(out, e.report(t, mesospb.TaskState_TASK_FAILED, mesospb.TaskStatus_REASON_EXECUTOR_REGISTRATION_TIMEOUT,
					fmt.Sprintf("Executor did not subscribe within %v", e.cfg.RegistrationTimeout))...)
			}
		}
		e.phase = Terminating
		return append(out, e.destroy()...)
	case Recovering:
		var out []Effect
		for _, t := range e.tasks {
			if !t.Reported {
				out = append(out, e.report(t, mesospb.TaskState_TASK_FAILED, mesospb.TaskStatus_REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
					fmt.Sprintf("Executor did not re-subscribe within %v after the agent restarted", e.cfg.ReregistrationTimeout))...)
			}
		}
		e.phase = Terminating
		return append(out, e.destroy()...)
	case Terminating:
		return e.destroy()
	}
	return nil
}

// Exited handles the end of the container (Wait returned, or the launch
// failed). Tasks without a terminal update fail, reported by the agent.
func (e *Executor) Exited(x Exit) []Effect {
	if e.phase == Exited || e.phase == Released {
		return nil
	}
	e.phase = Exited
	reason := mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED
	msg := "Executor terminated"
	switch {
	case x.LaunchError != "":
		reason, msg = mesospb.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED, "Container launch failed: "+x.LaunchError
	case x.OOMKilled:
		reason, msg = mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY, "Memory limit exceeded: "+x.MemoryLimit
	case x.Unknown:
		msg = "Executor terminated while the agent was down (exit status unknown)"
	case x.Signal != "":
		msg = "Executor terminated by signal " + x.Signal
	default:
		msg = fmt.Sprintf("Executor exited with status %d", x.Code)
	}
	var out []Effect
	for _, t := range e.tasks {
		if !t.Reported {
			out = append(out, e.report(t, mesospb.TaskState_TASK_FAILED, reason, msg)...)
		}
	}
	return append(out, e.maybeRelease()...)
}

// Acked records that a task's terminal update was acknowledged.
func (e *Executor) Acked(id ids.TaskID) []Effect {
	if t := e.Task(id); t != nil && t.Reported {
		t.Acked = true
	}
	return e.maybeRelease()
}

// Forget marks every task acknowledged (the framework is gone and nobody
// will acknowledge), releasing an exited executor.
func (e *Executor) Forget() []Effect {
	for _, t := range e.tasks {
		if t.Reported {
			t.Acked = true
		}
	}
	return e.maybeRelease()
}

func (e *Executor) maybeRelease() []Effect {
	if e.phase != Exited {
		return nil
	}
	for _, t := range e.tasks {
		if !t.Acked {
			return nil
		}
	}
	e.phase = Released
	return []Effect{Release{}}
}

func (e *Executor) anyLive() bool {
	for _, t := range e.tasks {
		if !t.Reported {
			return true
		}
	}
	return false
}

func (e *Executor) destroy() []Effect {
	if e.destroyed {
		return nil
	}
	e.destroyed = true
	return []Effect{Destroy{}}
}

// report makes the agent's own status update for t and records it.
func (e *Executor) report(t *Task, state mesospb.TaskState, reason mesospb.TaskStatus_Reason, msg string) []Effect {
	t.State = state
	t.Reported = terminal(state)
	return []Effect{Report{Status: &mesospb.TaskStatus{
		TaskId:     t.Info.GetTaskId(),
		State:      state.Enum(),
		Source:     mesospb.TaskStatus_SOURCE_AGENT.Enum(),
		Reason:     reason.Enum(),
		Message:    proto.String(msg),
		ExecutorId: &mesospb.ExecutorID{Value: proto.String(string(e.ID))},
	}}}
}

func terminal(s mesospb.TaskState) bool {
	switch s {
	case mesospb.TaskState_TASK_FINISHED, mesospb.TaskState_TASK_FAILED,
		mesospb.TaskState_TASK_KILLED, mesospb.TaskState_TASK_ERROR,
		mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_DROPPED,
		mesospb.TaskState_TASK_GONE, mesospb.TaskState_TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}
