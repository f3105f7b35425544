package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// postMaster sends one internal protocol message to the master.
func (a *Agent) postMaster(ctx context.Context, path string, msg proto.Message) error {
	return endpoint.Post(ctx, a.client, "http://"+a.cfg.Master+path, msg, nil)
}

// internalPost wraps the master → agent calls: decode the protobuf body,
// run fn on the loop, answer 202 (or fn's *api.HTTPError).
func internalPost[M proto.Message](a *Agent, newMsg func() M, fn func(*state, M) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		msg := newMsg()
		if _, err := endpoint.Decode(r, msg); err != nil {
			endpoint.Error(w, err)
			return
		}
		var herr error
		if err := a.do(r.Context(), func(st *state) { herr = fn(st, msg) }); err != nil {
			endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", err)
			return
		}
		if herr != nil {
			endpoint.Error(w, herr)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func badRequest(format string, args ...any) error {
	return &api.HTTPError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// registered: the master admitted this agent.
func (a *Agent) registered(st *state, m *internalpb.Registered) error {
	id := ids.AgentID(m.GetAgentId().GetValue())
	if id == "" {
		return badRequest("agent_id is empty")
	}
	if id != st.agentID {
		if err := writeAgentID(a.cfg.WorkDir, id); err != nil {
			return err
		}
		a.log.Info("agent admitted", "agent_id", id, "previous_agent_id", st.agentID)
	}
	st.agentID = id
	a.publicID.Store(id)
	st.masterInfo = m.GetMasterInfo()
	if err := a.ckpt.WriteAgent(a.agentInfo(id)); err != nil {
		a.checkpointErrors.Add(1)
		a.log.Warn("checkpoint agent info", "err", err)
	}
	// A (re-)admission is a new session: whatever waits for an
	// acknowledgement goes out again now rather than at its next retry.
	st.registered = true
	a.admitted.Store(true)
	now := time.Now()
	st.sum.Retry(now)
	a.availabilityChanged()
	a.flushUpdates(st, now)
	return nil
}

// runTasks validates and launches the tasks of one ACCEPT.
func (a *Agent) runTasks(st *state, m *internalpb.RunTasks) error {
	fwID := ids.FrameworkID(m.GetFrameworkInfo().GetId().GetValue())
	if fwID == "" {
		return badRequest("framework_info.id is not set")
	}
	if st.stopping {
		return &apiStopping
	}
	fw := st.frameworks[fwID]
	if fw == nil {
		fw = &framework{executors: map[ids.ExecutorID]*executor{}}
		st.frameworks[fwID] = fw
	}
	fw.info = m.GetFrameworkInfo()
	fw.shuttingDown = false
	now := time.Now()
	if g := m.GetExecutorInfo(); g != nil {
		a.runGroup(st, fw, m.GetTasks(), g, now)
	} else {
		for _, t := range m.GetTasks() {
			a.runTask(st, fw, t, now)
		}
	}
	if len(fw.executors) == 0 && st.sum.Len() == 0 {
		delete(st.frameworks, fwID)
	}
	a.availabilityChanged()
	return nil
}

func (a *Agent) runTask(st *state, fw *framework, t *mesospb.TaskInfo, now time.Time) {
	fwID := ids.FrameworkID(fw.info.GetId().GetValue())
	tid := ids.TaskID(t.GetTaskId().GetValue())
	if _, e := st.findTask(fwID, tid); e != nil {
		// The master resends run_tasks it could not confirm (a slow agent
		// answers after its timeout): the same task again is a redelivery.
		if proto.Equal(e.core.Task(tid).Info, t) {
			a.log.Debug("run_tasks redelivered, task already known", "framework_id", fwID, "task_id", tid)
			return
		}
		// A second stream for the same task id would corrupt the first
		// task's updates: report the duplicate once, unreliably.
		a.reportOnce(st, fwID, t, "Task "+string(tid)+" already exists on this agent")
		return
	}
	fail := func(msg string) {
		s := agentStatus(t, mesospb.TaskState_TASK_ERROR, mesospb.TaskStatus_REASON_TASK_INVALID, msg)
		if _, err := a.addUpdate(st, fw, execIDOf(t), s, true); err != nil {
			a.log.Error("agent status update dropped", "task_id", tid, "err", err)
		}
	}
	checkpointFailed := func(err error) {
		a.checkpointErrors.Add(1)
		a.log.Error("task not launched: checkpoint failed", "task_id", tid, "err", err)
		s := agentStatus(t, mesospb.TaskState_TASK_FAILED, mesospb.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED,
			"Agent could not checkpoint the task: "+err.Error())
		if _, err := a.addUpdate(st, fw, execIDOf(t), s, true); err != nil {
			a.log.Error("agent status update dropped", "task_id", tid, "err", err)
		}
	}
	switch {
	case tid == "":
		fail("task_id is empty")
		return
	case (t.Command == nil) == (t.Executor == nil):
		fail("Task must have exactly one of 'command' and 'executor'")
		return
	}
	res, err := resources.FromProto(t.GetResources())
	if err != nil {
		fail("Invalid task resources: " + err.Error())
		return
	}
	if msg := a.bandwidthRequestError(res.Scalar(netbwResource)); msg != "" {
		fail(msg)
		return
	}
	avail := a.total.Subtract(st.allocated())
	if !avail.Contains(res) {
		fail(fmt.Sprintf("Task uses more resources (%s) than available on the agent (%s)", res.String(), avail.String()))
		return
	}
	execID := execIDOf(t)
	if e := fw.executors[execID]; e != nil {
		if t.Command != nil || !e.core.Live() {
			fail("Executor " + string(execID) + " is already in use or terminating")
			return
		}
		if e.checkpoint {
			if err := a.ckpt.WriteTask(e.ref, t); err != nil {
				checkpointFailed(err)
				return
			}
		}
		a.apply(st, fw, e, e.core.Add(t))
		a.bw.addTask(fwID, e.container, tid, res.Scalar(netbwResource))
		return
	}
	command := t.Command != nil
	execInfo := t.GetExecutor()
	if command {
		execInfo = &mesospb.ExecutorInfo{
			Type:        mesospb.ExecutorInfo_DEFAULT.Enum(),
			ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(execID))},
			FrameworkId: fw.info.GetId(),
			Name:        proto.String("Command Executor (Task: " + string(tid) + ")"),
			Command:     &mesospb.CommandInfo{Value: proto.String("/.cairn/cairn executor"), Shell: proto.Bool(false)},
		}
	}
	req, err := a.requestFor(fw.info, t, execInfo, command)
	if err != nil {
		fail("Invalid executor: " + err.Error())
		return
	}
	cid := newContainerID()
	agent := sandboxAgent(st.agentID, t)
	e := &executor{
		core:       task.New(execID, fwID, a.taskConfig(), now, t),
		info:       execInfo,
		container:  cid,
		sandbox:    sandboxDir(a.cfg.WorkDir, agent, fwID, execID, cid),
		memLimit:   memLimitText(res.Scalar("mem"), req.memMB),
		cpus:       req.cpus,
		command:    command,
		checkpoint: fw.info.GetCheckpoint(),
		ref:        checkpoint.RunRef{Agent: agent, Framework: fwID, Executor: execID, Container: cid},
	}
	if e.checkpoint {
		// Recorded before the container exists: a restart in between
		// finds a run that never started and fails its task once.
		info := checkpoint.RunInfo{Sandbox: e.sandbox, Command: command, CPUs: e.cpus, MemLimit: e.memLimit}
		if err := a.ckpt.Launch(e.ref, fw.info, execInfo, info, t); err != nil {
			checkpointFailed(err)
			return
		}
	}
	fw.executors[execID] = e
	a.bw.addTask(fwID, cid, tid, res.Scalar(netbwResource))
	a.log.Info("launching task", "framework_id", fwID, "task_id", tid, "executor_id", execID, "container_id", cid)
	a.launch(st, fw, e, req)
}

func execIDOf(t *mesospb.TaskInfo) ids.ExecutorID {
	if t.Executor != nil {
		return ids.ExecutorID(t.GetExecutor().GetExecutorId().GetValue())
	}
	return ids.ExecutorID(t.GetTaskId().GetValue())
}

func agentStatus(t *mesospb.TaskInfo, state mesospb.TaskState, reason mesospb.TaskStatus_Reason, msg string) *mesospb.TaskStatus {
	return &mesospb.TaskStatus{
		TaskId:    t.GetTaskId(),
		State:     state.Enum(),
		Source:    mesospb.TaskStatus_SOURCE_AGENT.Enum(),
		Reason:    reason.Enum(),
		Message:   proto.String(msg),
		Uuid:      newUUID(),
		Timestamp: proto.Float64(float64(time.Now().UnixNano()) / 1e9),
	}
}

// reportOnce sends a TASK_ERROR outside the status update manager.
func (a *Agent) reportOnce(st *state, fw ids.FrameworkID, t *mesospb.TaskInfo, msg string) {
	s := agentStatus(t, mesospb.TaskState_TASK_ERROR, mesospb.TaskStatus_REASON_TASK_INVALID, msg)
	s.AgentId = &mesospb.AgentID{Value: proto.String(string(st.agentID))}
	out := &internalpb.StatusUpdate{
		FrameworkId: &mesospb.FrameworkID{Value: proto.String(string(fw))},
		AgentId:     s.AgentId,
		Status:      s,
	}
	a.log.Warn("task refused", "framework_id", fw, "task_id", t.GetTaskId().GetValue(), "message", msg)
	a.goBG(func() {
		if err := a.postMaster(a.runCtx, "/internal/v1/status_update", out); err != nil {
			a.log.Warn("send status update", "err", err)
		}
	})
}

// killTask handles the master's KillTask; an unknown task is logged (the
// master reconciles), not an error.
func (a *Agent) killTask(st *state, m *internalpb.KillTask) error {
	fwID, tid := ids.FrameworkID(m.GetFrameworkId().GetValue()), ids.TaskID(m.GetTaskId().GetValue())
	fw, e := st.findTask(fwID, tid)
	if e == nil {
		a.log.Warn("kill of unknown task ignored", "framework_id", fwID, "task_id", tid)
		return nil
	}
	effs, err := e.core.Kill(tid, m.GetKillPolicy())
	if err != nil {
		return badRequest("%v", err)
	}
	a.apply(st, fw, e, effs)
	return nil
}

// shutdownFramework shuts every executor of the framework down.
func (a *Agent) shutdownFramework(st *state, m *internalpb.ShutdownFramework) error {
	fwID := ids.FrameworkID(m.GetFrameworkId().GetValue())
	fw := st.frameworks[fwID]
	if fw == nil {
		return nil
	}
	fw.shuttingDown = true
	a.bw.removeFramework(fwID)
	now := time.Now()
	for _, e := range fw.executors {
		a.apply(st, fw, e, e.core.Shutdown(now, mesospb.TaskStatus_REASON_FRAMEWORK_REMOVED))
		if e.exited {
			a.forgetExecutor(st, fw, e)
		}
	}
	a.log.Info("framework shut down", "framework_id", fwID)
	return nil
}

// statusUpdateAck applies the framework's acknowledgement relayed by the
// master. A stale or unknown ack is logged and ignored: acks can be resent.
func (a *Agent) statusUpdateAck(st *state, m *internalpb.StatusUpdateAck) error {
	key := statusupdate.Key{Framework: ids.FrameworkID(m.GetFrameworkId().GetValue()), Task: ids.TaskID(m.GetTaskId().GetValue())}
	if len(m.GetUuid()) != 16 {
		return badRequest("uuid must be 16 bytes, got %d", len(m.GetUuid()))
	}
	now := time.Now()
	res, err := st.sum.Ack(key, m.GetUuid(), now)
	if err != nil {
		a.log.Debug("status update ack ignored", "task_id", key.Task, "err", err)
		return nil
	}
	if _, e := st.findTask(key.Framework, key.Task); e != nil && e.checkpoint {
		// A lost ack record only means the update is sent once more
		// after a restart: a duplicate frameworks drop by uuid.
		if err := a.ckpt.AppendAck(e.ref, key.Task, m.GetUuid()); err != nil {
			a.checkpointErrors.Add(1)
			a.log.Warn("checkpoint status update ack", "task_id", key.Task, "err", err)
		}
	}
	if res.Terminal {
		if fw, e := st.findTask(key.Framework, key.Task); e != nil {
			a.apply(st, fw, e, e.core.Acked(key.Task))
		}
	}
	a.flushUpdates(st, now)
	return nil
}

var apiStopping = api.HTTPError{Status: http.StatusServiceUnavailable, Msg: "agent is shutting down"}

// errCheckpoint marks an update refused because it could not be
// checkpointed (disk full, I/O error).
var errCheckpoint = errors.New("checkpoint failed")

// sandboxAgent is the agent id a sandbox path uses: the admitted id, or
// before admission (a launch racing the Registered message) the id the
// master put in the task.
func sandboxAgent(id ids.AgentID, t *mesospb.TaskInfo) ids.AgentID {
	if id == "" {
		return ids.AgentID(t.GetAgentId().GetValue())
	}
	return id
}
