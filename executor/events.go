package executor

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
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
		e.launch(ctx, ev.GetLaunch().GetTask())
	case executorpb.Event_LAUNCH_GROUP:
		for _, t := range ev.GetLaunchGroup().GetTaskGroup().GetTasks() {
			e.update(ctx, t.GetTaskId(), mesospb.TaskState_TASK_ERROR,
				"the command executor does not run task groups", nil)
		}
	case executorpb.Event_KILL:
		k := ev.GetKill()
		if e.task == nil || e.task.terminal || e.task.info.GetTaskId().GetValue() != k.GetTaskId().GetValue() {
			e.log.Info("ignoring kill of a task that is not running", "task_id", k.GetTaskId().GetValue())
			return
		}
		policy := k.GetKillPolicy()
		if policy == nil {
			policy = e.task.info.GetKillPolicy()
		}
		e.killWithUpdate(ctx, gracePeriod(policy))
	case executorpb.Event_ACKNOWLEDGED:
		e.acknowledged(ev.GetAcknowledged())
	case executorpb.Event_SHUTDOWN:
		e.log.Info("shutdown requested by agent")
		if e.task != nil && !e.task.terminal {
			e.notifyKilling(ctx)
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
	if e.task != nil {
		if e.task.info.GetTaskId().GetValue() == id.GetValue() {
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
	e.task = &task{info: info}
	e.log.Info("launching task", "task_id", id.GetValue())
	e.update(ctx, id, mesospb.TaskState_TASK_STARTING, "", nil)
	cmd, err := buildCommand(info.GetCommand(), e.cfg.Env, e.cfg.Sandbox)
	if err == nil {
		e.task.pid, err = e.reaper.start(cmd.spawn)
	}
	if err == nil {
		if cerr := joinTaskCgroup(e.cfg.TaskCgroup, e.task.pid); cerr != nil {
			// The task runs under the container's quota, which includes
			// the executor's overhead: a softer limit, not none.
			e.log.Error("task keeps the container's cpu limit", "task_id", id.GetValue(), "error", cerr)
		}
	}
	if err != nil {
		e.task.terminal = true
		e.update(ctx, id, mesospb.TaskState_TASK_FAILED, "Failed to launch command: "+err.Error(),
			mesospb.TaskStatus_REASON_COMMAND_EXECUTOR_FAILED.Enum())
		e.finish()
		return
	}
	e.update(ctx, id, mesospb.TaskState_TASK_RUNNING, "", nil)
}

// killWithUpdate reports TASK_KILLING (to frameworks that understand it)
// and kills the task.
func (e *Executor) killWithUpdate(ctx context.Context, grace time.Duration) {
	e.notifyKilling(ctx)
	e.kill(grace)
}

func (e *Executor) notifyKilling(ctx context.Context) {
	if e.task.killing || !hasCapability(e.framework, mesospb.FrameworkInfo_Capability_TASK_KILLING_STATE) {
		return
	}
	e.update(ctx, e.task.info.GetTaskId(), mesospb.TaskState_TASK_KILLING, "", nil)
}

// kill sends SIGTERM to the task's process group and arms SIGKILL after
// grace. A second kill may only shorten the grace period.
func (e *Executor) kill(grace time.Duration) {
	t := e.task
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
	t.escalate = time.NewTimer(grace)
}

// killGroup signals the task's process group. ESRCH (already gone) is fine.
func killGroup(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}

// exited handles the reaped task process.
func (e *Executor) exited(ctx context.Context, ex procExit) {
	t := e.task
	if t == nil || ex.pid != t.pid || t.terminal {
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
	e.log.Info("task exited", "task_id", t.info.GetTaskId().GetValue(), "state", state.String(), "message", msg)
	e.update(ctx, t.info.GetTaskId(), state, msg, nil)
	e.finish()
}

// acknowledged forgets an update the agent has stored.
func (e *Executor) acknowledged(a *executorpb.Event_Acknowledged) {
	if e.task != nil && e.task.info.GetTaskId().GetValue() == a.GetTaskId().GetValue() {
		e.task.acked = true
	}
	e.forget(a.GetUuid())
}

// forget drops an update from the unacknowledged list; once the task is
// over and nothing is pending the executor is done.
func (e *Executor) forget(uuid []byte) {
	for i, u := range e.unacked {
		if bytes.Equal(u.GetStatus().GetUuid(), uuid) {
			e.unacked = append(e.unacked[:i], e.unacked[i+1:]...)
			break
		}
	}
	if len(e.unacked) == 0 && (e.task == nil || e.task.terminal) && (e.task != nil || e.shutdown) {
		e.done = true
	}
}

// update builds a status update with a fresh uuid, remembers it until the
// agent acknowledges it, and sends it if connected.
func (e *Executor) update(ctx context.Context, id *mesospb.TaskID, state mesospb.TaskState, msg string, reason *mesospb.TaskStatus_Reason) {
	now := float64(time.Now().UnixNano()) / 1e9
	st := &mesospb.TaskStatus{
		TaskId:     id,
		State:      state.Enum(),
		Source:     mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
		Reason:     reason,
		ExecutorId: e.executorID,
		Timestamp:  &now,
		Uuid:       newUUID(),
	}
	if msg != "" {
		st.Message = &msg
	}
	if state == mesospb.TaskState_TASK_RUNNING {
		pid := uint32(os.Getpid())
		st.ContainerStatus = &mesospb.ContainerStatus{ExecutorPid: &pid}
	}
	u := &executorpb.Call_Update{Status: st}
	e.unacked = append(e.unacked, u)
	if e.connected {
		e.post(ctx, u)
	}
}

func hasCapability(fw *mesospb.FrameworkInfo, c mesospb.FrameworkInfo_Capability_Type) bool {
	for _, cap := range fw.GetCapabilities() {
		if cap.GetType() == c {
			return true
		}
	}
	return false
}

// newUUID is a random (version 4) UUID in its 16-byte wire form.
func newUUID() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // never happens on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}
