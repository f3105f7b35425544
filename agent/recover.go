package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/recovery"
	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// recoverState rebuilds st from the checkpoints and the containers a
// previous agent left, before the agent serves: executors whose containers
// run wait for their re-subscription, tasks whose executors ended while the
// agent was down are reported, unacknowledged updates go to the status
// update manager, and containers no checkpoint accounts for are destroyed.
func (a *Agent) recoverState(ctx context.Context, st *state) error {
	start := time.Now()
	if err := a.recoverResources(); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	cs, err := a.ckpt.Read(st.agentID)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	for _, p := range cs.Problems {
		a.recoveryErrors.Add(1)
		if p.Torn {
			a.log.Warn("checkpoint torn by a crash; its last record is dropped", "path", p.Path)
		} else {
			a.log.Error("corrupt checkpoint", "path", p.Path, "err", p.Err)
		}
	}
	if bad := cs.Corrupt(); len(bad) > 0 && a.cfg.Strict {
		var names []string
		for _, p := range bad {
			names = append(names, p.Path)
		}
		return fmt.Errorf("recover: %d corrupt checkpoint file(s): %s (start with --strict=false to skip them and recover the rest)",
			len(bad), strings.Join(names, ", "))
	}
	alive, err := a.ctr.Containers()
	if err != nil {
		return fmt.Errorf("recover: list containers: %w", err)
	}
	mode := recovery.Reconnect
	if a.cfg.Recover == "cleanup" {
		mode = recovery.Cleanup
	}
	plan := recovery.Decide(recovery.Input{State: cs, Alive: alive, BootID: a.cfg.BootID, Mode: mode})
	if plan.Rebooted {
		a.log.Warn("host rebooted since the agent's last run: starting clean, tasks it ran are reported lost",
			"old_boot_id", cs.BootID, "boot_id", a.cfg.BootID, "runs", len(plan.Runs))
	}
	for _, c := range plan.Destroy {
		if err := a.ctr.Destroy(ctx, c); err != nil && !errors.Is(err, containerizer.ErrNotFound) {
			a.log.Warn("destroy leftover container", "container_id", c, "err", err)
			continue
		}
		a.log.Info("destroyed leftover container", "container_id", c)
	}
	for _, ref := range plan.Forget {
		if err := a.ckpt.RemoveRun(ref); err != nil {
			a.log.Warn("forget finished run", "container_id", ref.Container, "err", err)
		}
	}
	if !a.cfg.Strict {
		a.rewriteCorruptLogs(cs)
	}
	now := time.Now()
	reattached := 0
	for _, r := range plan.Runs {
		if a.restoreRun(ctx, st, r, now) {
			reattached++
		}
	}
	a.recoverBandwidth(st)
	if err := a.ckpt.WriteBootID(a.cfg.BootID); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	st.recovering = reattached > 0
	st.recoveryStart = start
	a.log.Info("agent checkpoints read", "runs", len(plan.Runs), "reattached", reattached, "destroyed", len(plan.Destroy),
		"forgotten", len(plan.Forget), "problems", len(cs.Problems), "took", time.Since(start).String())
	return nil
}

// rewriteCorruptLogs replaces each corrupt update log by its valid prefix,
// so appends after recovery are readable again (--strict=false only).
func (a *Agent) rewriteCorruptLogs(cs *checkpoint.State) {
	for _, fw := range cs.Frameworks {
		for _, ex := range fw.Executors {
			for _, run := range ex.Runs {
				for _, t := range run.Tasks {
					if t.LogCorrupt {
						if err := a.ckpt.RewriteLog(run.Ref, t.ID, t.Log); err != nil {
							a.log.Warn("rewrite corrupt update log", "task_id", t.ID, "err", err)
						}
					}
				}
			}
		}
	}
}

// restoreRun rebuilds one executor and does what the plan says for it;
// true when the agent now waits for the executor to re-subscribe.
func (a *Agent) restoreRun(ctx context.Context, st *state, r recovery.Run, now time.Time) bool {
	fwID := r.Framework.ID
	fw := st.frameworks[fwID]
	if fw == nil {
		fw = &framework{info: r.Framework.Info, executors: map[ids.ExecutorID]*executor{}}
		st.frameworks[fwID] = fw
	}
	ref := r.Run.Ref
	restored := make([]task.Restored, 0, len(r.Tasks))
	for _, t := range r.Tasks {
		restored = append(restored, task.Restored{Info: t.Info, State: t.State, AtExecutor: t.AtExecutor, Reported: t.Terminal, Acked: t.Acked})
		a.replayLog(st, fwID, ref.Executor, t)
	}
	e := &executor{
		core:       task.Recover(ref.Executor, fwID, a.taskConfig(), now, restored),
		info:       r.Executor.Info,
		container:  ref.Container,
		sandbox:    r.Run.Info.Sandbox,
		memLimit:   r.Run.Info.MemLimit,
		cpus:       r.Run.Info.CPUs,
		command:    r.Run.Info.Command,
		checkpoint: true,
		ref:        ref,
	}
	if old := fw.executors[ref.Executor]; old != nil {
		// Two unfinished runs of one executor: only one can be it. The
		// older one's tasks end; its container is left to the plan.
		a.log.Warn("second unfinished run of an executor; ending it", "executor_id", ref.Executor, "container_id", ref.Container)
		e.exited = true
		a.apply(st, fw, e, e.core.Abandon(mesospb.TaskState_TASK_FAILED, mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED,
			"Executor run superseded by another run of the same executor"))
		return false
	}
	fw.executors[ref.Executor] = e
	log := a.log.With("framework_id", fwID, "executor_id", ref.Executor, "container_id", ref.Container, "action", r.Action.String())
	switch r.Action {
	case recovery.Reattach:
		e.launched = true
		log.Info("re-attaching to executor")
		a.reattach(fw, e, r.Run.Pid)
		return true
	case recovery.Terminated:
		log.Info("executor ended while the agent was down")
		e.exited = true
		a.apply(st, fw, e, e.core.Exited(task.Exit{Code: -1, Unknown: true}))
	case recovery.NeverStarted:
		log.Info("container launch was interrupted by the agent's stop")
		e.exited = true
		a.apply(st, fw, e, e.core.Exited(task.Exit{LaunchError: "the agent stopped before the container started"}))
	case recovery.Lost:
		e.exited = true
		state := mesospb.TaskState_TASK_LOST
		if partitionAware(fw.info) {
			state = mesospb.TaskState_TASK_GONE
		}
		a.apply(st, fw, e, e.core.Abandon(state, mesospb.TaskStatus_REASON_AGENT_RESTARTED, "Agent host rebooted"))
	case recovery.Kill:
		log.Info("killing executor (--recover=cleanup)")
		e.exited = true
		a.apply(st, fw, e, e.core.Abandon(mesospb.TaskState_TASK_FAILED, mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED,
			"Executor killed by the agent's --recover=cleanup"))
	}
	return false
}

// replayLog feeds a task's checkpointed log to the status update manager,
// which ends up with the task's unacknowledged updates, due at once.
func (a *Agent) replayLog(st *state, fw ids.FrameworkID, exec ids.ExecutorID, t recovery.Task) {
	key := statusupdate.Key{Framework: fw, Task: ids.TaskID(t.Info.GetTaskId().GetValue())}
	now := time.Now()
	for _, entry := range t.Log {
		if entry.Update == nil {
			if _, err := st.sum.Ack(key, entry.Ack, now); err != nil {
				a.log.Debug("checkpointed ack not applied", "task_id", key.Task, "err", err)
			}
			continue
		}
		u := statusupdate.Update{Key: key, Executor: exec, Status: entry.Update.GetStatus()}
		if _, err := st.sum.Add(u, now); err != nil {
			a.log.Debug("checkpointed update not replayed", "task_id", key.Task, "err", err)
		}
	}
}

// reattach takes over a recovered container and reports its end as launch
// does for a new one.
func (a *Agent) reattach(fw *framework, e *executor, checkpointedPid int) {
	a.goBG(func() {
		pid, err := a.ctr.Recover(a.waitCtx, e.container)
		if err != nil {
			a.post(func(st *state) {
				a.log.Warn("re-attach to container", "container_id", e.container, "err", err)
				e.exited = true
				a.apply(st, fw, e, e.core.Exited(task.Exit{Code: -1, Unknown: true}))
			})
			return
		}
		if checkpointedPid != 0 && pid != checkpointedPid {
			a.log.Warn("recovered container's pid differs from the checkpoint", "container_id", e.container, "pid", pid, "checkpointed_pid", checkpointedPid)
		}
		a.waitExecutor(fw, e)
	})
}

// recoveryDone logs, once, that every recovered executor re-subscribed or
// was given up on.
func (a *Agent) recoveryDone(st *state) {
	if !st.recovering {
		return
	}
	for _, fw := range st.frameworks {
		for _, e := range fw.executors {
			if e.core.Phase() == task.Recovering {
				return
			}
		}
	}
	st.recovering = false
	a.log.Info("agent recovered", "took", time.Since(st.recoveryStart).String())
}

func partitionAware(fw *mesospb.FrameworkInfo) bool {
	for _, c := range fw.GetCapabilities() {
		if c.GetType() == mesospb.FrameworkInfo_Capability_PARTITION_AWARE {
			return true
		}
	}
	return false
}

func (a *Agent) taskConfig() task.Config {
	return task.Config{
		RegistrationTimeout:   a.cfg.ExecutorRegistrationTimeout,
		ShutdownGrace:         a.cfg.ExecutorShutdownGracePeriod,
		ReregistrationTimeout: a.cfg.ExecutorReregistrationTimeout,
	}
}
