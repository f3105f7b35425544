package agent

import (
	"context"
	"strings"
	"time"

	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/mesospb"
)

// metrics is the agent's metrics snapshot (/metrics/snapshot and
// GET_METRICS), with Mesos's names: resources total, used (by tasks
// without a terminal update) and their ratio, task and executor gauges by
// state, and the agent's own counters. The loop's figures are missing when
// ctx ends before the loop answers.
func (a *Agent) metrics(ctx context.Context) map[string]float64 {
	out := map[string]float64{
		"slave/recovery_errors":   float64(a.recoveryErrors.Load()),
		"slave/checkpoint_errors": float64(a.checkpointErrors.Load()),
		"slave/uptime_secs":       time.Since(a.started).Seconds(),
	}
	_ = a.do(ctx, func(st *state) {
		out["slave/registered"] = 0
		if st.registered {
			out["slave/registered"] = 1
		}
		used := st.allocated()
		for _, r := range []string{"cpus", "mem", "disk", "gpus"} {
			total, u := a.total.Scalar(r), used.Scalar(r)
			out["slave/"+r+"_total"] = total
			out["slave/"+r+"_used"] = u
			out["slave/"+r+"_percent"] = 0
			if total > 0 {
				out["slave/"+r+"_percent"] = u / total
			}
		}
		tasks := map[mesospb.TaskState]float64{}
		var registering, running, terminating, recovering float64
		for _, fw := range st.frameworks {
			for _, e := range fw.executors {
				switch e.core.Phase() {
				case task.Launching:
					registering++
				case task.Running:
					running++
				case task.Recovering:
					running++
					recovering++
				case task.Terminating:
					terminating++
				}
				for _, t := range e.core.Tasks() {
					if !t.Reported {
						tasks[t.State]++
					}
				}
			}
		}
		out["slave/tasks_staging"] = tasks[mesospb.TaskState_TASK_STAGING]
		out["slave/tasks_starting"] = tasks[mesospb.TaskState_TASK_STARTING]
		out["slave/tasks_running"] = tasks[mesospb.TaskState_TASK_RUNNING]
		out["slave/tasks_killing"] = tasks[mesospb.TaskState_TASK_KILLING]
		out["slave/executors_registering"] = registering
		out["slave/executors_running"] = running
		out["slave/executors_terminating"] = terminating
		out["slave/executors_recovering"] = recovering
		out["slave/frameworks_active"] = float64(len(st.frameworks))
		for _, ts := range []mesospb.TaskState{mesospb.TaskState_TASK_FINISHED, mesospb.TaskState_TASK_FAILED,
			mesospb.TaskState_TASK_KILLED, mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_ERROR, mesospb.TaskState_TASK_GONE} {
			out["slave/tasks_"+strings.ToLower(strings.TrimPrefix(ts.String(), "TASK_"))] = float64(st.terminal[ts])
		}
		out["slave/container_launch_errors"] = float64(st.launchErrors)
	})
	return out
}
