package agent

import (
	"fmt"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	cairnexec "github.com/cairnhq/cairn/executor"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Task groups (LAUNCH_GROUP) run under Cairn's default executor: `cairn
// executor` with executor.ExecutorTypeEnv=default, in one container whose
// resources are the ExecutorInfo's plus those of the group's tasks. A later
// group for the same executor id joins the running executor.

// defaultExecutor reports whether e runs Cairn's default executor, which
// takes its tasks as LAUNCH_GROUP events.
func defaultExecutor(e *executor) bool {
	return !e.command && e.info.GetType() == mesospb.ExecutorInfo_DEFAULT
}

// runGroup launches one task group: all of it or, when the agent cannot,
// none (every task TASK_ERROR, REASON_TASK_GROUP_INVALID).
func (a *Agent) runGroup(st *state, fw *framework, tasks []*mesospb.TaskInfo, execInfo *mesospb.ExecutorInfo, now time.Time) {
	fwID := ids.FrameworkID(fw.info.GetId().GetValue())
	execID := ids.ExecutorID(execInfo.GetExecutorId().GetValue())
	if len(tasks) == 0 {
		return
	}
	if redelivered(st, fwID, tasks) {
		a.log.Debug("run_tasks redelivered, task group already known", "framework_id", fwID, "executor_id", execID)
		return
	}
	failAll := func(msg string) {
		for _, t := range tasks {
			s := agentStatus(t, mesospb.TaskState_TASK_ERROR, mesospb.TaskStatus_REASON_TASK_GROUP_INVALID, msg)
			if _, err := a.addUpdate(st, fw, execID, s, true); err != nil {
				a.log.Error("agent status update dropped", "task_id", t.GetTaskId().GetValue(), "err", err)
			}
		}
	}
	e := fw.executors[execID]
	switch {
	case execID == "":
		failAll("Task group has no executor with an 'executor_id'")
		return
	case execInfo.GetType() != mesospb.ExecutorInfo_DEFAULT:
		failAll("'ExecutorInfo.type' must be 'DEFAULT' for a task group")
		return
	case e != nil && (!defaultExecutor(e) || !e.core.Live()):
		failAll("Executor " + string(execID) + " is already in use or terminating")
		return
	}
	var sum resources.Resources
	var netMbps []float64
	seen := make(map[ids.TaskID]bool, len(tasks))
	for _, t := range tasks {
		tid := ids.TaskID(t.GetTaskId().GetValue())
		if tid == "" {
			failAll("task_id is empty")
			return
		}
		if seen[tid] {
			failAll("Task " + string(tid) + " appears twice in the task group")
			return
		}
		seen[tid] = true
		if _, known := st.findTask(fwID, tid); known != nil {
			failAll("Task " + string(tid) + " already exists on this agent")
			return
		}
		if t.Command == nil || t.Executor != nil {
			failAll("Task " + string(tid) + " in a task group must have a 'command' and no 'executor'")
			return
		}
		res, err := resources.FromProto(t.GetResources())
		if err != nil {
			failAll("Invalid task resources: " + err.Error())
			return
		}
		if msg := a.bandwidthRequestError(res.Scalar(netbwResource)); msg != "" {
			failAll(msg)
			return
		}
		sum = sum.Add(res)
		netMbps = append(netMbps, res.Scalar(netbwResource))
	}
	if avail := a.total.Subtract(st.allocated()); !avail.Contains(sum) {
		failAll(fmt.Sprintf("Task group uses more resources (%s) than available on the agent (%s)", sum.String(), avail.String()))
		return
	}
	if e != nil {
		a.joinGroup(st, fw, e, tasks, netMbps, failAll)
		return
	}
	req, err := a.requestFor(fw.info, groupAsTask(tasks), execInfo, false)
	if err != nil {
		failAll("Invalid executor: " + err.Error())
		return
	}
	cid := newContainerID()
	agent := sandboxAgent(st.agentID, tasks[0])
	e = &executor{
		core:       task.New(execID, fwID, a.taskConfig(), now, tasks...),
		info:       execInfo,
		container:  cid,
		sandbox:    sandboxDir(a.cfg.WorkDir, agent, fwID, execID, cid),
		memLimit:   memLimitText(sum.Scalar("mem"), req.memMB),
		cpus:       req.cpus,
		checkpoint: fw.info.GetCheckpoint(),
		ref:        checkpoint.RunRef{Agent: agent, Framework: fwID, Executor: execID, Container: cid},
	}
	if e.checkpoint {
		info := checkpoint.RunInfo{Sandbox: e.sandbox, CPUs: e.cpus, MemLimit: e.memLimit}
		err := a.ckpt.Launch(e.ref, fw.info, execInfo, info, tasks[0])
		for _, t := range tasks[1:] {
			if err == nil {
				err = a.ckpt.WriteTask(e.ref, t)
			}
		}
		if err != nil {
			a.checkpointErrors.Add(1)
			failAll("Agent could not checkpoint the task group: " + err.Error())
			return
		}
	}
	fw.executors[execID] = e
	for i, t := range tasks {
		a.bw.addTask(fwID, cid, ids.TaskID(t.GetTaskId().GetValue()), netMbps[i])
	}
	a.log.Info("launching task group", "framework_id", fwID, "executor_id", execID, "container_id", cid,
		"tasks", len(tasks), "cpus", req.cpus, "mem_mb", req.memMB)
	a.launch(st, fw, e, req)
}

// joinGroup adds a task group to a live default executor. Its container's
// limits stay those it was created with: the containerizer cannot resize a
// running container yet (as for tasks added to a custom executor).
func (a *Agent) joinGroup(st *state, fw *framework, e *executor, tasks []*mesospb.TaskInfo, netMbps []float64, failAll func(string)) {
	if e.checkpoint {
		for _, t := range tasks {
			if err := a.ckpt.WriteTask(e.ref, t); err != nil {
				a.checkpointErrors.Add(1)
				failAll("Agent could not checkpoint the task group: " + err.Error())
				return
			}
		}
	}
	var effs []task.Effect
	for i, t := range tasks {
		effs = append(effs, e.core.Add(t)...)
		a.bw.addTask(e.core.Framework, e.container, ids.TaskID(t.GetTaskId().GetValue()), netMbps[i])
	}
	a.log.Info("task group joins executor", "executor_id", e.core.ID, "container_id", e.container, "tasks", len(tasks))
	a.apply(st, fw, e, effs)
}

// redelivered: the master resent a run_tasks it could not confirm, and
// every task of the group is known already with the same TaskInfo.
func redelivered(st *state, fw ids.FrameworkID, tasks []*mesospb.TaskInfo) bool {
	for _, t := range tasks {
		tid := ids.TaskID(t.GetTaskId().GetValue())
		_, e := st.findTask(fw, tid)
		if e == nil || !proto.Equal(e.core.Task(tid).Info, t) {
			return false
		}
	}
	return true
}

// groupAsTask is the one TaskInfo requestFor sizes a new default
// executor's container by: all the group's resources.
func groupAsTask(tasks []*mesospb.TaskInfo) *mesospb.TaskInfo {
	out := &mesospb.TaskInfo{}
	for _, t := range tasks {
		out.Resources = append(out.Resources, t.GetResources()...)
	}
	return out
}

// defaultExecutorRequest completes the container request of a default
// executor, whose cpus and mem the caller summed (the executor's and the
// group's). There is no task cgroup (quotaCPUs): the tasks share the
// container's limits, as Mesos's nested containers share their executor's
// cgroups by default (share_cgroups). Nothing is fetched: a default
// executor has no command of its own.
func (a *Agent) defaultExecutorRequest(req containerRequest) containerRequest {
	req.uris = nil
	a.builtinExecutor(&req, cairnexec.ExecutorTypeEnv+"=default")
	return req
}

// sendLaunchGroup sends a default executor its new tasks as one
// LAUNCH_GROUP and returns the other effects; for other executors it
// returns effs unchanged.
func (a *Agent) sendLaunchGroup(e *executor, effs []task.Effect) []task.Effect {
	if !defaultExecutor(e) {
		return effs
	}
	group, rest := launchGroupEvents(effs)
	if group != nil {
		a.sendEvent(e, group)
	}
	return rest
}

// launchGroupEvents turns the SendLaunch effects for a default executor
// into one LAUNCH_GROUP event (the tasks the core releases at once are one
// group, or the groups that arrived before the executor subscribed) and
// returns the other effects in order.
func launchGroupEvents(effs []task.Effect) (*executorpb.Event, []task.Effect) {
	var group []*mesospb.TaskInfo
	rest := effs[:0:0]
	for _, eff := range effs {
		if l, ok := eff.(task.SendLaunch); ok {
			group = append(group, l.Task)
			continue
		}
		rest = append(rest, eff)
	}
	if len(group) == 0 {
		return nil, rest
	}
	return &executorpb.Event{Type: executorpb.Event_LAUNCH_GROUP.Enum(), LaunchGroup: &executorpb.Event_LaunchGroup{
		TaskGroup: &mesospb.TaskGroupInfo{Tasks: group},
	}}, rest
}
