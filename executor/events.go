package executor

import (
	"context"
	"syscall"
	"time"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
)

// handle applies one event from the agent.
func (e *Executor) handle(ctx context.Context, ev *executorpb.Event) {
	switch ev.GetType() {
	case executorpb.Event_SUBSCRIBED:
		e.subscribedTo(ctx, ev.GetSubscribed())
	case executorpb.Event_LAUNCH:
		if e.cfg.Default {
			e.update(ctx, ev.GetLaunch().GetTask().GetTaskId(), mesospb.TaskState_TASK_ERROR,
				"the default executor runs task groups only", nil)
			return
		}
		e.launch(ctx, ev.GetLaunch().GetTask())
	case executorpb.Event_LAUNCH_GROUP:
		if !e.cfg.Default {
			for _, t := range ev.GetLaunchGroup().GetTaskGroup().GetTasks() {
				e.update(ctx, t.GetTaskId(), mesospb.TaskState_TASK_ERROR,
					"the command executor does not run task groups", nil)
			}
			return
		}
		e.launchGroup(ctx, ev.GetLaunchGroup().GetTaskGroup().GetTasks())
	case executorpb.Event_KILL:
		k := ev.GetKill()
		t := e.find(k.GetTaskId().GetValue())
		if t == nil || t.terminal {
			e.log.Info("ignoring kill of a task that is not running", "task_id", k.GetTaskId().GetValue())
			return
		}
		policy := k.GetKillPolicy()
		if policy.GetGracePeriod() == nil {
			policy = t.info.GetKillPolicy()
		}
		e.killWithUpdate(ctx, t, gracePeriod(policy))
	case executorpb.Event_ACKNOWLEDGED:
		e.acknowledged(ev.GetAcknowledged())
	case executorpb.Event_SHUTDOWN:
		e.log.Info("shutdown requested by agent")
		for _, t := range e.tasks {
			if !t.terminal {
				e.notifyKilling(ctx, t)
			}
		}
		e.stop(e.cfg.ShutdownGracePeriod, false)
	case executorpb.Event_MESSAGE:
		e.log.Debug("framework message", "bytes", len(ev.GetMessage().GetData()))
	case executorpb.Event_ERROR:
		e.log.Warn("agent error event", "message", ev.GetError().GetMessage())
	case executorpb.Event_HEARTBEAT:
	default:
		e.log.Debug("ignoring unknown event", "type", ev.GetType().String())
	}
}

func gracePeriod(p *mesospb.KillPolicy) time.Duration {
	if p.GetGracePeriod() == nil {
		return defaultKillGrace
	}
	return max(0, time.Duration(p.GetGracePeriod().GetNanoseconds()))
}

// launch starts the task. A command executor runs exactly one task.
func (e *Executor) launch(ctx context.Context, info *mesospb.TaskInfo) {
	id := info.GetTaskId()
	if len(e.tasks) > 0 {
		if e.tasks[0].id() == id.GetValue() {
			e.log.Debug("ignoring duplicate launch", "task_id", id.GetValue())
			return
		}
		e.update(ctx, id, mesospb.TaskState_TASK_ERROR, "the command executor runs one task", nil)
		return
	}
	if e.shutdown {
		e.update(ctx, id, mesospb.TaskState_TASK_ERROR, "the executor is shutting down", nil)
		return
	}
	t := &task{info: info}
	e.tasks = append(e.tasks, t)
	e.log.Info("launching task", "task_id", id.GetValue())
	e.update(ctx, id, mesospb.TaskState_TASK_STARTING, "", nil)
	cmd, err := buildCommand(info.GetCommand(), e.cfg.Env, e.cfg.Sandbox)
	if err == nil {
		err = e.start(t, cmd)
	}
	if err != nil {
		e.launchFailed(ctx, t, err)
		return
	}
	e.update(ctx, id, mesospb.TaskState_TASK_RUNNING, "", nil)
}

// start spawns a task's process and moves it into the task cgroup.
func (e *Executor) start(t *task, cmd command) error {
	pid, err := e.reaper.start(cmd.spawn)
	if err != nil {
		return err
	}
	t.pid = pid
	if cerr := joinTaskCgroup(e.cfg.TaskCgroup, pid); cerr != nil {
		// The task runs under the container's quota, which includes
		// the executor's overhead: a softer limit, not none.
		e.log.Error("task keeps the container's cpu limit", "task_id", t.id(), "error", cerr)
	}
	return nil
}

// launchFailed reports a task whose process could not start.
func (e *Executor) launchFailed(ctx context.Context, t *task, err error) {
	t.terminal = true
	e.update(ctx, t.info.GetTaskId(), mesospb.TaskState_TASK_FAILED, "Failed to launch command: "+err.Error(),
		mesospb.TaskStatus_REASON_COMMAND_EXECUTOR_FAILED.Enum())
	e.ended(ctx, t, mesospb.TaskState_TASK_FAILED)
}

// killWithUpdate reports TASK_KILLING (to frameworks that understand it)
// and kills the task.
func (e *Executor) killWithUpdate(ctx context.Context, t *task, grace time.Duration) {
	e.notifyKilling(ctx, t)
	e.kill(t, grace)
}

func (e *Executor) notifyKilling(ctx context.Context, t *task) {
	if t.killing || !hasCapability(e.framework, mesospb.FrameworkInfo_Capability_TASK_KILLING_STATE) {
		return
	}
	e.update(ctx, t.info.GetTaskId(), mesospb.TaskState_TASK_KILLING, "", nil)
}

// kill sends SIGTERM to the task's process group and arms SIGKILL after
// grace. A second kill may only shorten the grace period.
func (e *Executor) kill(t *task, grace time.Duration) {
	if t.pid == 0 {
		return
	}
	if t.killing {
		if t.escalate != nil && grace == 0 {
			t.escalate.Stop()
			t.escalate = nil
			killGroup(t.pid, true)
		}
		return
	}
	t.killing = true
	e.log.Info("killing task", "task_id", t.info.GetTaskId().GetValue(), "grace_period", grace)
	if grace == 0 {
		killGroup(t.pid, true)
		return
	}
	killGroup(t.pid, false)
	t.escalate = time.AfterFunc(grace, func() {
		// The loop drains escalations until Run returns; a stale one
		// (the task ended meanwhile) is skipped there.
		select {
		case e.escalations <- t:
		case <-e.quit:
		}
	})
}

// killGroup signals the task's process group. ESRCH (already gone) is fine.
func killGroup(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}

// exited handles a reaped task process.
func (e *Executor) exited(ctx context.Context, ex procExit) {
	t := e.byPid(ex.pid)
	if t == nil || t.terminal {
		return
	}
	if t.escalate != nil {
		t.escalate.Stop()
		t.escalate = nil
	}
	// Whatever the task left in its process group goes with it.
	killGroup(t.pid, true)
	t.terminal = true
	state, msg := describeExit(ex.status, t.killing)
	e.log.Info("task exited", "task_id", t.id(), "state", state.String(), "message", msg)
	e.update(ctx, t.info.GetTaskId(), state, msg, nil)
	e.ended(ctx, t, state)
}

// ended follows a task's terminal update: in a task group, a failed or
// killed member takes the rest of its group down; the executor finishes
// once no task is left.
func (e *Executor) ended(ctx context.Context, t *task, state mesospb.TaskState) {
	if e.cfg.Default {
		for _, m := range groupMates(e.tasks, t, state, e.shutdown) {
			e.log.Info("killing task of a failed group", "task_id", m.id(), "failed_task_id", t.id())
			e.killWithUpdate(ctx, m, gracePeriod(m.info.GetKillPolicy()))
		}
	}
	e.finish()
}
