package executor

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// TaskCgroupFDEnv names the variable by which the Linux containerizer hands
// the executor an open cgroup.procs file of a cgroup nested in the
// container's, with the task's own CPU quota (containerizer.TaskCgroupFDEnv).
// The executor moves the processes it starts there, so the task is held to
// the cpus its framework asked for while the executor's own start-up and
// work are charged to the container's overhead.
const TaskCgroupFDEnv = "CAIRN_TASK_CGROUP_FD"

// taskCgroupFromEnv takes the task cgroup file out of env: the file (nil
// when the variable is absent) and env without the variable, which is the
// executor's business and not the task's. The descriptor is made
// close-on-exec so the task does not inherit it.
func taskCgroupFromEnv(env []string) (*os.File, []string, error) {
	i := slices.IndexFunc(env, func(kv string) bool { return strings.HasPrefix(kv, TaskCgroupFDEnv+"=") })
	if i < 0 {
		return nil, env, nil
	}
	v := strings.TrimPrefix(env[i], TaskCgroupFDEnv+"=")
	rest := slices.Delete(slices.Clone(env), i, i+1)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, nil, fmt.Errorf("environment variable %s: %q is not a file descriptor above 2", TaskCgroupFDEnv, v)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, nil, fmt.Errorf("environment variable %s: descriptor %d: %w", TaskCgroupFDEnv, fd, err)
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "task-cgroup.procs"), rest, nil
}

// joinTaskCgroup moves a started process into the task cgroup. The pid is
// the executor's view of it; the kernel reads it in the writer's pid
// namespace, which is the task's too.
func joinTaskCgroup(f *os.File, pid int) error {
	if f == nil {
		return nil
	}
	if _, err := f.Write([]byte(strconv.Itoa(pid))); err != nil {
		return fmt.Errorf("move task %d to its cgroup: %w", pid, err)
	}
	return nil
}
