package containerizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cairnhq/cairn/isolators"
)

// TaskCgroupFDEnv names the environment variable that tells a container's
// executor which of its file descriptors is the cgroup.procs file of the
// nested task cgroup (Limits.TaskCPUQuotaUs). The executor writes the pid of
// each process it starts there. The variable is absent when there is no such
// cgroup.
const TaskCgroupFDEnv = "CAIRN_TASK_CGROUP_FD"

// taskCgroupName is the nested cgroup's directory in the container's cpu
// cgroup.
const taskCgroupName = "task"

// taskCgroup prepares the nested cgroup that holds a container's task
// processes under their own CFS quota, and opens its cgroup.procs for the
// executor. It returns nil when the container has no task quota.
//
// The cgroup is created before libcontainer creates the container's (which
// then takes the existing directory), so the executor can be handed the file
// when it starts. Only v1 hierarchies (legacy and hybrid hosts) nest it: a v2
// cgroup with processes of its own (the executor) cannot give its children
// the cpu controller, so on v2 the whole container gets the task's quota
// instead (see containerLimits). Destroy removes the nested cgroup with the
// container's: libcontainer removes cgroup directories depth first.
func (l *Linux) taskCgroup(id string, lim isolators.Limits) (*os.File, error) {
	if lim.TaskCPUQuotaUs <= 0 || l.host.mode == modeUnified {
		return nil, nil
	}
	dirs, err := l.host.dirs(l.cgroupsRoot, id)
	if err != nil {
		return nil, fmt.Errorf("task cgroup: %w", err)
	}
	cpu, ok := dirs["cpu"]
	if !ok {
		return nil, errors.New("task cgroup: no cpu hierarchy")
	}
	dir := filepath.Join(cpu, taskCgroupName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create task cgroup: %w", err)
	}
	period := lim.CPUPeriodUs
	if period == 0 {
		period = 100000
	}
	for _, kv := range [][2]string{
		{"cpu.cfs_period_us", strconv.FormatUint(period, 10)},
		{"cpu.cfs_quota_us", strconv.FormatInt(lim.TaskCPUQuotaUs, 10)},
	} {
		if err := os.WriteFile(filepath.Join(dir, kv[0]), []byte(kv[1]), 0); err != nil {
			_ = os.Remove(dir)
			return nil, fmt.Errorf("set task cgroup %s: %w", kv[0], err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
	if err != nil {
		_ = os.Remove(dir)
		return nil, fmt.Errorf("open task cgroup: %w", err)
	}
	return f, nil
}

// containerLimits are the limits libcontainer sets on the container's own
// cgroups: where the task cgroup cannot nest (v2), the task's quota holds
// the whole container.
func containerLimits(mode cgroupMode, lim isolators.Limits) isolators.Limits {
	if lim.TaskCPUQuotaUs > 0 && mode == modeUnified {
		lim.CPUQuotaUs = lim.TaskCPUQuotaUs
	}
	lim.TaskCPUQuotaUs = 0
	return lim
}

// removeTaskCgroup removes the nested cgroup of a launch that failed, and
// the container's cpu cgroup it created for it, when libcontainer did not
// get to remove them. Both are empty then; errors mean they are gone.
func (l *Linux) removeTaskCgroup(id string) {
	dirs, err := l.host.dirs(l.cgroupsRoot, id)
	if err != nil {
		return
	}
	if cpu, ok := dirs["cpu"]; ok {
		_ = os.Remove(filepath.Join(cpu, taskCgroupName))
		_ = os.Remove(cpu)
	}
}
