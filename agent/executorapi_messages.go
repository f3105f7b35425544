package agent

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// Framework ↔ executor messages, SHUTDOWN of one executor, and executor
// exits reported to the master. Messages are best effort both ways, as in
// Mesos: sent once, dropped when the other side is not there.

// frameworkMessage handles the master's framework_message: a MESSAGE event
// to the executor, if it is subscribed.
func (a *Agent) frameworkMessage(st *state, m *internalpb.FrameworkToExecutor) error {
	fwID, execID := ids.FrameworkID(m.GetFrameworkId().GetValue()), ids.ExecutorID(m.GetExecutorId().GetValue())
	_, e := st.findExecutor(fwID, execID)
	if e == nil || e.exited || e.stream == nil {
		a.log.Warn("framework message dropped: executor not subscribed", "framework_id", fwID, "executor_id", execID)
		return nil
	}
	a.sendEvent(e, &executorpb.Event{
		Type:    executorpb.Event_MESSAGE.Enum(),
		Message: &executorpb.Event_Message{Data: bytes.Clone(m.GetData())},
	})
	return nil
}

// shutdownExecutor handles the master's shutdown_executor (the scheduler's
// SHUTDOWN call, Mesos's shutdown_executor): SHUTDOWN to the executor, its
// container destroyed after the grace period; its tasks end as usual (the
// ones the executor does not finish fail with REASON_EXECUTOR_TERMINATED).
func (a *Agent) shutdownExecutor(st *state, m *internalpb.ShutdownExecutor) error {
	fwID, execID := ids.FrameworkID(m.GetFrameworkId().GetValue()), ids.ExecutorID(m.GetExecutorId().GetValue())
	fw, e := st.findExecutor(fwID, execID)
	if e == nil {
		a.log.Warn("shutdown of unknown executor ignored", "framework_id", fwID, "executor_id", execID)
		return nil
	}
	a.log.Info("shutting executor down", "framework_id", fwID, "executor_id", execID)
	a.apply(st, fw, e, e.core.Shutdown(time.Now(), mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED))
	return nil
}

// executorMessage relays an executor's MESSAGE call to the master, which
// hands it to the framework; 202 whether or not it gets there.
func (a *Agent) executorMessage(r *http.Request, fwID ids.FrameworkID, execID ids.ExecutorID, data []byte) error {
	var agentID ids.AgentID
	var herr error
	if err := a.do(r.Context(), func(st *state) {
		if _, e := st.findExecutor(fwID, execID); e == nil {
			herr = badRequest("Executor %s of framework %s is unknown", execID, fwID)
		}
		agentID = st.agentID
	}); err != nil {
		return err
	}
	if herr != nil {
		return herr
	}
	msg := &internalpb.ExecutorToFramework{
		FrameworkId: &mesospb.FrameworkID{Value: proto.String(string(fwID))},
		AgentId:     &mesospb.AgentID{Value: proto.String(string(agentID))},
		ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(execID))},
		Data:        bytes.Clone(data),
	}
	a.goBG(func() {
		if err := a.postMaster(a.runCtx, "/internal/v1/executor_message", msg); err != nil {
			a.log.Warn("executor message dropped", "executor_id", execID, "err", err)
		}
	})
	return nil
}

// waitExecutor blocks until a launched executor's container ends, reports
// the exit to the loop (its tasks' terminal updates) and, for a framework's
// own executor, tells the master (FAILURE to the framework, Mesos's
// ExitedExecutorMessage; command executors are the agent's business). It
// returns early when the agent stops.
func (a *Agent) waitExecutor(fw *framework, e *executor) {
	exit, err := a.ctr.Wait(a.waitCtx, e.container)
	if err != nil && a.waitCtx.Err() != nil {
		return // the agent stops; the container lives on for the next one
	}
	x := task.Exit{Code: exit.Code, OOMKilled: exit.OOMKilled, MemoryLimit: e.memLimit, Unknown: exit.Unknown}
	if exit.OOMKilled {
		if msg := strings.TrimPrefix(a.oomMessage(e.container), "Memory limit exceeded: "); msg != "" {
			x.MemoryLimit = msg
		}
	}
	// The wait(2) status Mesos reports: the signal, or the code << 8.
	status := int32(exit.Code&0xff) << 8
	if exit.Signal != 0 {
		x.Signal = unix.SignalName(exit.Signal)
		status = int32(exit.Signal)
	}
	if err != nil {
		x = task.Exit{Code: -1, Signal: "unknown (" + err.Error() + ")"}
	}
	a.post(func(st *state) {
		a.log.Info("container exited", "executor_id", e.core.ID, "container_id", e.container, "exit", exit.String())
		e.exited = true
		a.apply(st, fw, e, e.core.Exited(x))
		if !e.command {
			a.tellExecutorExited(st, fw, e, err == nil && !exit.Unknown, status)
		}
		if fw.shuttingDown {
			a.forgetExecutor(st, fw, e)
		}
	})
}

// tellExecutorExited sends executor_exited to the master, once, best
// effort (as Mesos's ExitedExecutorMessage).
func (a *Agent) tellExecutorExited(st *state, fw *framework, e *executor, known bool, status int32) {
	if st.agentID == "" || !st.registered {
		return
	}
	msg := &internalpb.ExecutorExited{
		FrameworkId: fw.info.GetId(),
		AgentId:     &mesospb.AgentID{Value: proto.String(string(st.agentID))},
		ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(e.core.ID))},
	}
	if known {
		msg.Status = proto.Int32(status)
	}
	a.goBG(func() {
		if err := a.postMaster(a.runCtx, "/internal/v1/executor_exited", msg); err != nil {
			a.log.Warn("send executor_exited", "executor_id", e.core.ID, "err", err)
		}
	})
}
