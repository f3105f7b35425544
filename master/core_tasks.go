package master

import (
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// finishTask recovers a terminal task's resources once and moves it to the
// framework's completed list.
func (c *core) finishTask(f *framework, t *task, now time.Time) {
	if !t.recovered {
		t.recovered = true
		if _, ok := c.agents[t.agent]; ok {
			c.recover(f.id, t.agent, t.role, t.res, nil, now)
		}
	}
}

// StatusUpdate handles an agent's status update: the task's state is
// updated, resources recovered when the agent's latest state is terminal,
// and the update forwarded to the framework if it is connected (otherwise
// the agent resends it later).
func (c *core) StatusUpdate(su *internalpb.StatusUpdate, now time.Time) {
	fid := ids.FrameworkID(su.GetFrameworkId().GetValue())
	aid := ids.AgentID(su.GetAgentId().GetValue())
	st := su.GetStatus()
	if st.AgentId == nil || st.ExecutorId == nil {
		// Frameworks acknowledge with the status's agent_id: make sure it
		// is there.
		st = proto.Clone(st).(*mesospb.TaskStatus)
		if st.AgentId == nil {
			st.AgentId = su.AgentId
		}
		if st.ExecutorId == nil {
			st.ExecutorId = su.ExecutorId
		}
	}
	tid := ids.TaskID(st.GetTaskId().GetValue())
	f, ok := c.frameworks[fid]
	if !ok {
		c.counters.invalidStatusUpdates++
		c.log.Debug("status update for unknown framework", "framework_id", fid, "task_id", tid)
		return
	}
	c.counters.validStatusUpdates++
	latest := st.GetState()
	if su.LatestState != nil {
		latest = su.GetLatestState()
	}
	t, ok := f.tasks[tid]
	if !ok {
		// A task the master lost track of (e.g. after a master restart
		// before the agent was re-admitted): record it from the update.
		t = &task{pb: &mesospb.Task{
			Name: proto.String(string(tid)), TaskId: st.TaskId, FrameworkId: su.FrameworkId,
			AgentId: su.AgentId, ExecutorId: su.ExecutorId, State: latest.Enum(),
		}, agent: aid, recovered: true}
		f.tasks[tid] = t
		c.opTaskAdded(t)
	}
	t.pb.State = latest.Enum()
	t.pb.StatusUpdateState = st.State
	t.pb.StatusUpdateUuid = st.Uuid
	t.pb.Statuses = appendStatus(t.pb.Statuses, st)
	c.noteState(t)
	c.opTaskUpdated(f, t, st)
	if isTerminal(latest) {
		c.finishTask(f, t, now)
	}
	c.sendUpdate(f, st)
}

// appendStatus keeps every distinct state once (the latest status of each),
// as Mesos's Task.statuses does, without the data blob.
func appendStatus(list []*mesospb.TaskStatus, st *mesospb.TaskStatus) []*mesospb.TaskStatus {
	s := proto.Clone(st).(*mesospb.TaskStatus)
	s.Data = nil
	if n := len(list); n > 0 && list[n-1].GetState() == s.GetState() {
		list[n-1] = s
		return list
	}
	return append(list, s)
}

// Acknowledge handles ACKNOWLEDGE: relayed to the agent unless the update
// was made by the master. Acknowledging a terminal update forgets the task.
func (c *core) Acknowledge(f *framework, ack *schedulerpb.Call_Acknowledge) {
	uuid := ack.GetUuid()
	tid := ids.TaskID(ack.GetTaskId().GetValue())
	aid := ids.AgentID(ack.GetAgentId().GetValue())
	if t, ok := f.tasks[tid]; ok && string(t.pb.GetStatusUpdateUuid()) == string(uuid) &&
		isTerminal(t.pb.GetStatusUpdateState()) {
		f.completed = appendBounded(f.completed, t.pb, c.maxCompletedTasks)
		delete(f.tasks, tid)
	}
	if _, ok := c.masterUpdates[string(uuid)]; ok {
		delete(c.masterUpdates, string(uuid))
		return
	}
	a, ok := c.agents[aid]
	if !ok {
		c.log.Debug("acknowledgement for unknown agent dropped", "agent_id", aid, "task_id", tid)
		return
	}
	c.toAgent(a, "status_update_ack", &internalpb.StatusUpdateAck{
		FrameworkId: frameworkIDpb(f.id),
		TaskId:      ack.TaskId,
		Uuid:        append([]byte(nil), uuid...),
	})
}

// Kill handles KILL: a known, live task's kill goes to its agent; an
// unknown task gets TASK_LOST (TASK_UNKNOWN for partition-aware
// frameworks), without a uuid.
func (c *core) Kill(f *framework, k *schedulerpb.Call_Kill, now time.Time) {
	tid := ids.TaskID(k.GetTaskId().GetValue())
	t, ok := f.tasks[tid]
	if !ok || isTerminal(t.pb.GetState()) {
		state := mesospb.TaskState_TASK_LOST
		if f.partitionAware() {
			state = mesospb.TaskState_TASK_UNKNOWN
		}
		if ok {
			state = t.pb.GetState()
		}
		st := c.masterStatus(tid, ids.AgentID(k.GetAgentId().GetValue()), state,
			mesospb.TaskStatus_REASON_RECONCILIATION, "Attempted to kill an unknown task", false, now)
		c.sendUpdate(f, st)
		return
	}
	a, ok := c.agents[t.agent]
	if !ok {
		return // the agent is gone; its removal already reported the task
	}
	c.toAgent(a, "kill_task", &internalpb.KillTask{
		FrameworkId: frameworkIDpb(f.id), TaskId: k.TaskId, KillPolicy: k.KillPolicy,
	})
}

// Shutdown handles SHUTDOWN of an executor: the agent is asked to shut the
// executor down (it sends the executor SHUTDOWN, kills its container after
// the grace period, and reports its tasks). An unknown agent is ignored, as
// in Mesos.
func (c *core) Shutdown(f *framework, s *schedulerpb.Call_Shutdown) {
	a, ok := c.agents[ids.AgentID(s.GetAgentId().GetValue())]
	if !ok {
		return
	}
	c.toAgent(a, "shutdown_executor", &internalpb.ShutdownExecutor{
		FrameworkId: frameworkIDpb(f.id), ExecutorId: s.GetExecutorId(),
	})
}

// ShutdownByKill is the fallback for agents that do not serve
// shutdown_executor: the executor's live tasks are killed.
func (c *core) ShutdownByKill(aid ids.AgentID, se *internalpb.ShutdownExecutor) {
	f, ok := c.frameworks[ids.FrameworkID(se.GetFrameworkId().GetValue())]
	a, aok := c.agents[aid]
	if !ok || !aok {
		return
	}
	eid := se.GetExecutorId().GetValue()
	for _, t := range f.tasks {
		if t.agent == aid && executorOf(t.pb) == eid && !isTerminal(t.pb.GetState()) {
			c.toAgent(a, "kill_task", &internalpb.KillTask{FrameworkId: frameworkIDpb(f.id), TaskId: t.pb.TaskId})
		}
	}
}

// executorOf is the id of the executor running a task: its ExecutorInfo's,
// or the task's own id for a command task (Cairn's command executor id).
func executorOf(t *mesospb.Task) string {
	if e := t.GetExecutorId().GetValue(); e != "" {
		return e
	}
	return t.GetTaskId().GetValue()
}

// Reconcile handles RECONCILE. Implicit (no tasks): the latest state of every
// known task. Explicit: each named task's state, or TASK_LOST/TASK_UNKNOWN
// when unknown (TASK_UNREACHABLE-like answers need agents the master lost;
// those tasks stay in its map). Answers carry no uuid.
func (c *core) Reconcile(f *framework, r *schedulerpb.Call_Reconcile, now time.Time) {
	answer := func(t *task) {
		st := c.masterStatus(ids.TaskID(t.pb.GetTaskId().GetValue()), t.agent, t.pb.GetState(),
			mesospb.TaskStatus_REASON_RECONCILIATION, "Reconciliation: Latest task state", false, now)
		if n := len(t.pb.Statuses); n > 0 {
			last := t.pb.Statuses[n-1]
			st.ExecutorId = last.ExecutorId
			st.ContainerStatus = last.ContainerStatus
			st.Healthy = last.Healthy
		}
		c.sendUpdate(f, st)
	}
	if len(r.GetTasks()) == 0 {
		for _, t := range f.tasks {
			answer(t)
		}
		return
	}
	for _, rt := range r.GetTasks() {
		tid := ids.TaskID(rt.GetTaskId().GetValue())
		if t, ok := f.tasks[tid]; ok {
			answer(t)
			continue
		}
		aid := ids.AgentID(rt.GetAgentId().GetValue())
		if _, ok := c.recovered[aid]; ok {
			// The agent is in the registry but has not re-registered since
			// this master started: its tasks are not known yet, not lost.
			// As Mesos, say nothing; the framework reconciles again and the
			// agent's re-registration brings the real state.
			continue
		}
		state := mesospb.TaskState_TASK_LOST
		if f.partitionAware() {
			state = mesospb.TaskState_TASK_UNKNOWN
		}
		msg := "Reconciliation: Task is unknown"
		for _, done := range f.completed {
			if done.GetTaskId().GetValue() == string(tid) {
				state, msg = done.GetState(), "Reconciliation: Latest task state"
			}
		}
		st := c.masterStatus(tid, aid, state, mesospb.TaskStatus_REASON_RECONCILIATION, msg, false, now)
		c.sendUpdate(f, st)
	}
}

// RunTasksFailed handles a run_tasks the agent never received: its tasks
// become TASK_LOST (TASK_DROPPED when partition-aware), reliable, with
// REASON_AGENT_DISCONNECTED, and their resources are recovered.
func (c *core) RunTasksFailed(aid ids.AgentID, rt *internalpb.RunTasks, now time.Time) {
	f, ok := c.frameworks[ids.FrameworkID(rt.GetFrameworkInfo().GetId().GetValue())]
	if !ok {
		return
	}
	for _, ti := range rt.GetTasks() {
		tid := ids.TaskID(ti.GetTaskId().GetValue())
		t, ok := f.tasks[tid]
		if !ok || t.agent != aid || t.pb.GetState() != mesospb.TaskState_TASK_STAGING {
			continue
		}
		state := lostFor(f, mesospb.TaskState_TASK_DROPPED)
		st := c.masterStatusFor(f.id, tid, aid, state, mesospb.TaskStatus_REASON_AGENT_DISCONNECTED,
			"Agent could not be reached to launch the task", true, now)
		c.setMasterState(f, t, st)
		c.finishTask(f, t, now)
		c.sendUpdate(f, st)
	}
}

// setMasterState records a master-made update on t.
func (c *core) setMasterState(f *framework, t *task, st *mesospb.TaskStatus) {
	t.pb.State = st.State
	t.pb.StatusUpdateState = st.State
	t.pb.StatusUpdateUuid = st.Uuid
	t.pb.Statuses = appendStatus(t.pb.Statuses, st)
	c.noteState(t)
	c.opTaskUpdated(f, t, st)
}

// noteState counts a task's first terminal state (master/tasks_<state>).
func (c *core) noteState(t *task) {
	if s := t.pb.GetState(); isTerminal(s) && !t.counted {
		t.counted = true
		c.terminal[s]++
	}
}
