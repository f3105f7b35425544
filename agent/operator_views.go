package agent

import (
	"strconv"

	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/flags"
	"google.golang.org/protobuf/proto"
)

// The operator API's views of the agent's state. All view* functions run
// on the state loop.

// taskProto is the Mesos Task of t, with the updates still waiting for an
// acknowledgement as statuses (the oldest one is status_update_state).
func (a *Agent) taskProto(st *state, fw *framework, e *executor, t *task.Task) *mesospb.Task {
	fwID := ids.FrameworkID(fw.info.GetId().GetValue())
	mt := &mesospb.Task{
		Name:        proto.String(t.Info.GetName()),
		TaskId:      t.Info.GetTaskId(),
		FrameworkId: fw.info.GetId(),
		ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(e.core.ID))},
		AgentId:     &mesospb.AgentID{Value: proto.String(string(st.agentID))},
		State:       t.State.Enum(),
		Resources:   t.Info.GetResources(),
		KillPolicy:  t.Info.GetKillPolicy(),
		Labels:      t.Info.GetLabels(),
		Discovery:   t.Info.GetDiscovery(),
		Container:   t.Info.GetContainer(),
	}
	if t.Info.Executor != nil {
		mt.ExecutorId = t.Info.GetExecutor().GetExecutorId()
	}
	key := statusupdate.Key{Framework: fwID, Task: ids.TaskID(t.Info.GetTaskId().GetValue())}
	if p := st.sum.Pending(key); len(p) > 0 {
		mt.StatusUpdateState = p[0].Status.GetState().Enum()
		mt.StatusUpdateUuid = p[0].Status.GetUuid()
		for _, u := range p {
			mt.Statuses = append(mt.Statuses, u.Status)
		}
	}
	return mt
}

// viewTasks sorts the tasks as Mesos's agent does: queued (the executor has
// not subscribed yet), launched (sent to the executor), terminated (terminal,
// update unacknowledged) and completed (terminal and acknowledged, kept
// until the executor is released).
func (a *Agent) viewTasks(st *state) *agentpb.Response_GetTasks {
	out := &agentpb.Response_GetTasks{}
	for _, fw := range st.frameworks {
		for _, e := range fw.executors {
			for _, t := range e.core.Tasks() {
				mt := a.taskProto(st, fw, e, t)
				switch {
				case t.Acked:
					out.CompletedTasks = append(out.CompletedTasks, mt)
				case t.Reported:
					out.TerminatedTasks = append(out.TerminatedTasks, mt)
				case !t.Sent && !e.launched:
					out.PendingTasks = append(out.PendingTasks, mt)
				case !t.Sent:
					out.QueuedTasks = append(out.QueuedTasks, mt)
				default:
					out.LaunchedTasks = append(out.LaunchedTasks, mt)
				}
			}
		}
	}
	return out
}

// viewExecutors lists every executor, the command executors Cairn
// generates included (as Mesos lists its command executors); an exited one
// waiting for acknowledgements is completed.
func (a *Agent) viewExecutors(st *state) *agentpb.Response_GetExecutors {
	out := &agentpb.Response_GetExecutors{}
	for _, fw := range st.frameworks {
		for _, e := range fw.executors {
			info := proto.Clone(e.info).(*mesospb.ExecutorInfo)
			if info.FrameworkId == nil {
				info.FrameworkId = fw.info.GetId()
			}
			ex := &agentpb.Response_GetExecutors_Executor{ExecutorInfo: info}
			if e.exited {
				out.CompletedExecutors = append(out.CompletedExecutors, ex)
			} else {
				out.Executors = append(out.Executors, ex)
			}
		}
	}
	return out
}

func (a *Agent) viewFrameworks(st *state) *agentpb.Response_GetFrameworks {
	out := &agentpb.Response_GetFrameworks{}
	for _, fw := range st.frameworks {
		out.Frameworks = append(out.Frameworks, &agentpb.Response_GetFrameworks_Framework{FrameworkInfo: fw.info})
	}
	return out
}

// flagList is GET_FLAGS: the flags as parsed (Config.Flags), or, for an
// agent built without flags, the configuration's values under the flags'
// names.
func (a *Agent) flagList() []*mesospb.Flag {
	var values map[string]string
	if a.cfg.Flags != nil {
		values = a.cfg.Flags()
	} else {
		c := a.cfg
		values = map[string]string{
			"master": c.Master, "ip": c.IP, "port": strconv.Itoa(c.Port), "advertise_ip": c.AdvertiseIP,
			"hostname": c.Hostname, "work_dir": c.WorkDir, "runtime_dir": c.RuntimeDir,
			"resources": c.Resources, "attributes": c.Attributes, "isolation": c.Isolation,
			"cgroups_root": c.CgroupsRoot, "cgroups_enable_cfs": strconv.FormatBool(c.CgroupsEnableCFS),
			"cgroups_pids_max":               strconv.Itoa(c.CgroupsPidsMax),
			"executor_registration_timeout":  flags.FormatDuration(c.ExecutorRegistrationTimeout),
			"executor_shutdown_grace_period": flags.FormatDuration(c.ExecutorShutdownGracePeriod),
			"recover":                        c.Recover, "strict": strconv.FormatBool(c.Strict),
			"recovery_timeout":                flags.FormatDuration(c.RecoveryTimeout),
			"executor_reregistration_timeout": flags.FormatDuration(c.ExecutorReregistrationTimeout),
			"gossip_port":                     strconv.Itoa(c.GossipPort),
		}
	}
	return mesospb.FlagList(values)
}
