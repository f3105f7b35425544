package recovery

import (
	"bytes"
	"slices"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Mode is the agent's --recover flag.
type Mode int

const (
	// Reconnect re-attaches to running executors (the default).
	Reconnect Mode = iota
	// Cleanup kills every executor left running and recovers none.
	Cleanup
)

// Action is what happens to one checkpointed run.
type Action int

const (
	// Reattach: the container still runs; wait for its executor to
	// re-subscribe within --executor_reregistration_timeout.
	Reattach Action = iota + 1
	// Terminated: the container ended while the agent was down; its live
	// tasks fail with REASON_EXECUTOR_TERMINATED.
	Terminated
	// NeverStarted: the agent stopped while launching the container, which
	// never ran; its live tasks fail with REASON_CONTAINER_LAUNCH_FAILED.
	NeverStarted
	// Lost: the host rebooted since the checkpoint; nothing of the run is
	// left and its live tasks are lost (REASON_AGENT_RESTARTED).
	Lost
	// Kill: --recover=cleanup; the container is destroyed and its live
	// tasks fail with REASON_EXECUTOR_TERMINATED.
	Kill
)

func (a Action) String() string {
	return [...]string{"unknown", "reattach", "terminated", "never_started", "lost", "kill"}[max(0, min(int(a), 5))]
}

// Input is what Plan decides from.
type Input struct {
	State  *checkpoint.State
	Alive  []ids.ContainerID // containers the containerizer lists
	BootID string            // the host's current boot id
	Mode   Mode
}

// Plan is the outcome of recovery.
type Plan struct {
	// Rebooted: the checkpoint was written in an earlier boot of the host.
	Rebooted bool
	// Runs are the checkpointed runs that still have work: tasks to
	// supervise or updates to deliver.
	Runs []Run
	// Destroy lists containers to destroy: ones no checkpoint accounts for
	// (non-checkpointing frameworks', half-launched ones), those of
	// finished runs, and with Cleanup every one.
	Destroy []ids.ContainerID
	// Forget lists finished runs whose checkpoints can go.
	Forget []checkpoint.RunRef
}

// Run is one checkpointed run (container) and what to do with it.
type Run struct {
	Framework *checkpoint.Framework
	Executor  *checkpoint.Executor
	Run       *checkpoint.Run
	Action    Action
	Tasks     []Task
}

// Task is a checkpointed task as its update log leaves it.
type Task struct {
	Info *mesospb.TaskInfo
	Log  []checkpoint.Entry
	// State is the newest state in the log; TASK_STAGING without updates.
	State mesospb.TaskState
	// Terminal: a terminal update is in the log.
	Terminal bool
	// Acked: the terminal update was acknowledged; the task is over.
	Acked bool
	// AtExecutor: the executor sent an update for the task, so it has it
	// and must not be sent it again.
	AtExecutor bool
}

// Decide makes the plan.
func Decide(in Input) Plan {
	p := Plan{Rebooted: in.State.BootID != "" && in.BootID != "" && in.State.BootID != in.BootID}
	known := map[ids.ContainerID]bool{}
	alive := map[ids.ContainerID]bool{}
	for _, c := range in.Alive {
		alive[c] = true
	}
	for _, fw := range in.State.Frameworks {
		for _, ex := range fw.Executors {
			for _, run := range ex.Runs {
				r := Run{Framework: fw, Executor: ex, Run: run}
				done := true
				for _, t := range run.Tasks {
					task := replay(t)
					r.Tasks = append(r.Tasks, task)
					done = done && task.Acked
				}
				c := run.Ref.Container
				live := alive[c] && !p.Rebooted
				switch {
				case done:
					p.Forget = append(p.Forget, run.Ref)
					continue // its container, if any, counts as unknown
				case p.Rebooted:
					r.Action = Lost
				case in.Mode == Cleanup && live:
					r.Action = Kill
					p.Destroy = append(p.Destroy, c)
				case live:
					r.Action = Reattach
				case run.Pid == 0:
					r.Action = NeverStarted
				default:
					r.Action = Terminated
				}
				if r.Action == Reattach {
					known[c] = true
				}
				p.Runs = append(p.Runs, r)
			}
		}
	}
	for _, c := range in.Alive {
		if !known[c] {
			p.Destroy = append(p.Destroy, c)
		}
	}
	slices.Sort(p.Destroy)
	p.Destroy = slices.Compact(p.Destroy)
	return p
}

// replay reads a task's log as the status update manager would.
func replay(t *checkpoint.Task) Task {
	task := Task{Info: t.Info, Log: t.Log, State: mesospb.TaskState_TASK_STAGING}
	var terminalUUID []byte
	for _, e := range t.Log {
		if e.Update == nil {
			if terminalUUID != nil && bytes.Equal(e.Ack, terminalUUID) {
				task.Acked = true
			}
			continue
		}
		s := e.Update.GetStatus()
		if task.Terminal {
			continue // the manager refuses updates after a terminal one
		}
		task.State = s.GetState()
		if s.GetSource() == mesospb.TaskStatus_SOURCE_EXECUTOR {
			task.AtExecutor = true
		}
		if statusupdate.Terminal(s.GetState()) {
			task.Terminal = true
			terminalUUID = s.GetUuid()
		}
	}
	return task
}
