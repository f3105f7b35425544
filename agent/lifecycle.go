package agent

import (
	"fmt"
	"time"

	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// apply performs the effects the core returned for e.
func (a *Agent) apply(st *state, fw *framework, e *executor, effs []task.Effect) {
	effs = a.sendLaunchGroup(e, effs)
	for _, eff := range effs {
		switch eff := eff.(type) {
		case task.SendLaunch:
			a.sendEvent(e, &executorpb.Event{Type: executorpb.Event_LAUNCH.Enum(),
				Launch: &executorpb.Event_Launch{Task: eff.Task}})
		case task.SendKill:
			a.sendEvent(e, &executorpb.Event{Type: executorpb.Event_KILL.Enum(),
				Kill: &executorpb.Event_Kill{TaskId: &mesospb.TaskID{Value: proto.String(string(eff.TaskID))}, KillPolicy: eff.Policy}})
		case task.SendShutdown:
			a.sendEvent(e, &executorpb.Event{Type: executorpb.Event_SHUTDOWN.Enum()})
		case task.Report:
			s := eff.Status
			if s.GetReason() == mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY {
				// The metering knows the peak RSS the container reached.
				if msg := a.oomMessage(e.container); msg != "" {
					s.Message = proto.String(msg)
				}
			}
			s.Uuid = newUUID()
			s.Timestamp = proto.Float64(float64(time.Now().UnixNano()) / 1e9)
			s.ContainerStatus = &mesospb.ContainerStatus{ContainerId: &mesospb.ContainerID{Value: proto.String(string(e.container))}}
			if _, err := a.addUpdate(st, fw, e.core.ID, s, true); err != nil {
				a.log.Error("agent status update dropped", "task_id", s.GetTaskId().GetValue(), "err", err)
			}
		case task.Destroy:
			if !e.launched {
				e.destroyRequested = true
				continue
			}
			a.destroy(e.container)
		case task.Release:
			a.release(st, fw, e)
		}
	}
}

func (a *Agent) sendEvent(e *executor, ev *executorpb.Event) {
	if e.stream == nil || !e.stream.send(ev) {
		a.log.Warn("executor not connected; event dropped", "executor_id", e.core.ID, "event", ev.GetType().String())
	}
}

// addUpdate hands a reliable update to the status update manager; dup is
// true when the manager had already seen its uuid. An update of a
// checkpointing executor is first appended to its task's log; when that
// fails the update is refused (errCheckpoint), unless bestEffort (the
// agent's own reports: better delivered without a checkpoint than never).
func (a *Agent) addUpdate(st *state, fw *framework, exec ids.ExecutorID, s *mesospb.TaskStatus, bestEffort bool) (dup bool, err error) {
	if st.agentID != "" {
		s.AgentId = &mesospb.AgentID{Value: proto.String(string(st.agentID))}
	}
	a.withTaskNet(fw, exec, s)
	u := statusupdate.Update{
		Key:      statusupdate.Key{Framework: ids.FrameworkID(fw.info.GetId().GetValue()), Task: ids.TaskID(s.GetTaskId().GetValue())},
		Executor: exec,
		Status:   s,
	}
	if len(s.GetUuid()) == 16 && st.sum.Seen(u.Key, s.GetUuid()) {
		return true, nil
	}
	if e := fw.executors[exec]; e != nil && e.checkpoint {
		rec := &internalpb.StatusUpdate{FrameworkId: fw.info.GetId(), AgentId: s.AgentId, Status: s,
			ExecutorId: &mesospb.ExecutorID{Value: proto.String(string(exec))}}
		if err := a.ckpt.AppendUpdate(e.ref, u.Task, rec); err != nil {
			a.checkpointErrors.Add(1)
			if !bestEffort {
				return false, fmt.Errorf("%w: %w", errCheckpoint, err)
			}
			a.log.Error("status update not checkpointed; delivered from memory only", "task_id", u.Task, "err", err)
		}
	}
	if dup, err = st.sum.Add(u, time.Now()); err != nil || dup {
		return dup, err
	}
	a.bandwidthTaskEnded(fw, exec, s)
	if statusupdate.Terminal(s.GetState()) {
		st.terminal[s.GetState()]++
	}
	a.log.Info("task status", "framework_id", u.Framework, "task_id", u.Task, "state", s.GetState().String(),
		"reason", reasonText(s), "source", s.GetSource().String())
	a.availabilityChanged()
	a.flushUpdates(st, time.Now())
	return false, nil
}

// flushUpdates sends the updates that are due to the master, each in its
// own goroutine; a failed send is simply retried on schedule.
func (a *Agent) flushUpdates(st *state, now time.Time) {
	if st.agentID == "" || !st.registered || st.stopping || a.runCtx.Err() != nil {
		return
	}
	for _, s := range st.sum.Due(now) {
		status := proto.Clone(s.Status).(*mesospb.TaskStatus)
		status.AgentId = &mesospb.AgentID{Value: proto.String(string(st.agentID))}
		msg := &internalpb.StatusUpdate{
			FrameworkId: &mesospb.FrameworkID{Value: proto.String(string(s.Framework))},
			AgentId:     &mesospb.AgentID{Value: proto.String(string(st.agentID))},
			Status:      status,
			LatestState: s.Latest.Enum(),
			ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(s.Executor))},
		}
		a.goBG(func() {
			if err := a.postMaster(a.runCtx, "/internal/v1/status_update", msg); err != nil {
				a.log.Warn("send status update; will retry", "task_id", s.Task, "err", err)
			}
		})
	}
}

// destroy kills a container in the background; its waiter reports the exit.
func (a *Agent) destroy(id ids.ContainerID) {
	a.goBG(func() {
		if err := a.ctr.Destroy(a.bg, id); err != nil {
			a.log.Warn("destroy container", "container_id", id, "err", err)
		}
	})
}

// release forgets an executor whose container exited and whose terminal
// updates are acknowledged: cgroups go, the sandbox stays.
func (a *Agent) release(st *state, fw *framework, e *executor) {
	a.destroy(e.container)
	if e.checkpoint {
		if err := a.ckpt.RemoveRun(e.ref); err != nil {
			a.log.Warn("forget run checkpoint", "container_id", e.container, "err", err)
		}
	}
	if e.stream != nil {
		e.stream.close()
	}
	a.bw.endContainer(e.container)
	delete(fw.executors, e.core.ID)
	if len(fw.executors) == 0 {
		delete(st.frameworks, ids.FrameworkID(fw.info.GetId().GetValue()))
	}
	a.log.Info("executor released", "executor_id", e.core.ID, "container_id", e.container)
	a.availabilityChanged()
}

// launch creates the sandbox and the container in the background, then
// waits for the container and reports its exit to the loop.
func (a *Agent) launch(st *state, fw *framework, e *executor, req containerRequest) {
	agentID := st.agentID
	fwInfo := fw.info
	a.goBG(func() {
		// At most cfg.MaxConcurrentLaunches containers are being created at
		// once: a burst of hundreds would all finish late (each task's
		// latency becoming the whole burst's) and starve the agent's own
		// goroutines, gossip included.
		var spec containerizer.Spec
		pid := 0
		err := a.fetchInto(a.bg, e.sandbox, req.uris)
		if err == nil {
			select {
			case a.launchSlots <- struct{}{}:
				spec, err = a.containerSpec(agentID, fwInfo, e, req)
				if err == nil && req.taskNet {
					spec.NetNS, err = a.attachTaskNet(e.container, req.netMbps)
				}
				if err == nil {
					pid, err = a.ctr.Launch(a.bg, spec)
				}
				if err == nil {
					// Before the executor can report its tasks running.
					a.startBandwidth(e.core.Framework, e.container)
				}
				<-a.launchSlots
			case <-a.bg.Done():
				err = fmt.Errorf("launch abandoned: %w", a.bg.Err())
			}
		}
		if err != nil {
			a.post(func(st *state) {
				a.log.Warn("container launch failed", "executor_id", e.core.ID, "container_id", e.container, "err", err)
				st.launchErrors++
				e.exited = true
				a.apply(st, fw, e, e.core.Exited(task.Exit{LaunchError: err.Error()}))
				if !e.command {
					a.tellExecutorExited(st, fw, e, false, 0)
				}
			})
			return
		}
		if !a.post(func(st *state) {
			e.launched = true
			if e.checkpoint {
				if err := a.ckpt.WritePid(e.ref, pid); err != nil {
					// Recovery re-attaches by container id anyway.
					a.log.Warn("checkpoint container pid", "container_id", e.container, "err", err)
				}
			}
			if e.destroyRequested || st.stopping && !a.keepOnStop(fw, e) {
				a.destroy(e.container)
			}
		}) {
			// The loop is gone (shutdown): nobody else will destroy it.
			if !a.keepOnStop(fw, e) {
				if err := a.ctr.Destroy(a.bg, e.container); err != nil {
					a.log.Warn("destroy container", "container_id", e.container, "err", err)
				}
			}
		}
		a.waitExecutor(fw, e)
	})
}

// keepOnStop says whether an executor outlives the agent's shutdown: those
// of checkpointing frameworks do, for the next agent to recover, unless
// KillAllOnStop was called or the executor was on its way out anyway
// (killed, shut down, its framework removed).
func (a *Agent) keepOnStop(fw *framework, e *executor) bool {
	return e.checkpoint && !a.killAll.Load() && !fw.shuttingDown && e.core.Phase() != task.Terminating
}

// containerRequest is what the loop decided about a new container.
type containerRequest struct {
	cpus, memMB float64 // container limits including executor overhead
	quotaCPUs   float64 // the hard CPU limit, when it is not cpus (isolators.Request.QuotaCPUs)
	args        []string
	env         []string
	uris        []*mesospb.CommandInfo_URI // fetched into the sandbox first
	binds       []containerizer.Bind
	taskNet     bool    // in its own network namespace (--network_name)
	netMbps     float64 // network_bandwidth, the limit of its own namespace
}

// commandExecutorOverhead is what Mesos adds to a command task's container.
const (
	commandExecutorCPUs  = 0.1
	commandExecutorMemMB = 32
)

// requestFor computes the container of a new executor.
func (a *Agent) requestFor(fw *mesospb.FrameworkInfo, t *mesospb.TaskInfo, execInfo *mesospb.ExecutorInfo, command bool) (containerRequest, error) {
	taskRes, err := resources.FromProto(t.GetResources())
	if err != nil {
		return containerRequest{}, err
	}
	var req containerRequest
	req.cpus, req.memMB = taskRes.Scalar("cpus"), taskRes.Scalar("mem")
	req.uris = urisOf(t, execInfo, command)
	req.taskNet, req.netMbps = a.wantsTaskNet(t, execInfo), taskRes.Scalar(netbwResource)
	if command {
		req.quotaCPUs = req.cpus
		req.cpus += commandExecutorCPUs
		req.memMB += commandExecutorMemMB
		a.builtinExecutor(&req)
		return req, nil
	}
	execRes, err := resources.FromProto(execInfo.GetResources())
	if err != nil {
		return containerRequest{}, err
	}
	req.cpus += execRes.Scalar("cpus")
	req.memMB += execRes.Scalar("mem")
	req.netMbps += execRes.Scalar(netbwResource)
	if execInfo.GetType() == mesospb.ExecutorInfo_DEFAULT {
		return a.defaultExecutorRequest(req), nil
	}
	cmd := execInfo.GetCommand()
	if cmd.GetShell() {
		req.args = []string{"/bin/sh", "-c", cmd.GetValue()}
	} else {
		req.args = append([]string{cmd.GetValue()}, cmd.GetArguments()...)
		if len(cmd.GetArguments()) > 0 {
			req.args = cmd.GetArguments()
			if cmd.GetValue() != "" {
				req.args = append([]string{cmd.GetValue()}, cmd.GetArguments()[1:]...)
			}
		}
	}
	for _, v := range cmd.GetEnvironment().GetVariables() {
		req.env = append(req.env, v.GetName()+"="+v.GetValue())
	}
	return req, nil
}

// builtinExecutor makes req run Cairn's own executor (`cairn executor`,
// this binary bound at /.cairn/cairn), with extra environment entries env.
// One thread runs the executor's scheduler: it only waits on its tasks and
// the agent, and a start-up with fewer threads costs less CPU (about 5 % of
// a short task's whole launch). The executor takes GOMAXPROCS and its own
// variables out of its tasks' environment.
func (a *Agent) builtinExecutor(req *containerRequest, env ...string) {
	req.args = []string{"/.cairn/cairn", "executor"}
	req.env = append([]string{"GOMAXPROCS=1"}, env...)
	req.binds = []containerizer.Bind{{Source: a.cfg.ExecutorBinary, Target: "/.cairn/cairn"}}
}

func memLimitText(taskMemMB, containerMemMB float64) string {
	return fmt.Sprintf("requested %gMB (container limit %gMB with executor overhead)", taskMemMB, containerMemMB)
}

// forgetExecutor drops the unacknowledged updates of a framework that was
// shut down (nobody will acknowledge them) and releases the executor.
func (a *Agent) forgetExecutor(st *state, fw *framework, e *executor) {
	for _, t := range e.core.Tasks() {
		st.sum.Forget(statusupdate.Key{Framework: ids.FrameworkID(fw.info.GetId().GetValue()), Task: ids.TaskID(t.Info.GetTaskId().GetValue())})
	}
	a.apply(st, fw, e, e.core.Forget())
}

// reasonText is the status's reason, or "" when it has none (the enum's
// zero value is a real reason, REASON_COMMAND_EXECUTOR_FAILED).
func reasonText(s *mesospb.TaskStatus) string {
	if s.Reason == nil {
		return ""
	}
	return s.GetReason().String()
}
