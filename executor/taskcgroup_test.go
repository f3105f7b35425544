package executor

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTaskCgroupFromEnv(t *testing.T) {
	base := []string{"PATH=/bin", "MESOS_SANDBOX=/mnt/mesos/sandbox"}
	f, env, err := taskCgroupFromEnv(base)
	if f != nil || err != nil || !slices.Equal(env, base) {
		t.Errorf("without the variable: %v, %q, %v", f, env, err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A descriptor as the containerizer passes it: inherited, not
	// close-on-exec.
	fd, err := unix.Dup(int(w.Fd()))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	withFD := append(slices.Clone(base), TaskCgroupFDEnv+"="+strconv.Itoa(fd))
	f, env, err = taskCgroupFromEnv(withFD)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !slices.Equal(env, base) {
		t.Errorf("env for the task %q, want the variable gone", env)
	}
	flags, err := unix.FcntlInt(uintptr(fd), syscall.F_GETFD, 0)
	if err != nil || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("fd flags %#x (%v): want close-on-exec", flags, err)
	}
	if err := joinTaskCgroup(f, 1234); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, _ := r.Read(buf); string(buf[:n]) != "1234" {
		t.Errorf("wrote %q, want the pid", buf[:n])
	}
	if err := joinTaskCgroup(nil, 1); err != nil {
		t.Errorf("no task cgroup: %v", err)
	}

	for _, bad := range []string{"x", "2", "-1", "999999"} {
		_, _, err := taskCgroupFromEnv([]string{TaskCgroupFDEnv + "=" + bad})
		if err == nil || !strings.Contains(err.Error(), TaskCgroupFDEnv) {
			t.Errorf("%s=%s: error %v, want one naming the variable", TaskCgroupFDEnv, bad, err)
		}
	}
}

// The agent's GOMAXPROCS is for the executor's runtime, not the task's.
func TestConfigFromEnvKeepsGOMAXPROCSFromTask(t *testing.T) {
	env := []string{"MESOS_AGENT_ENDPOINT=127.0.0.1:5051", "MESOS_FRAMEWORK_ID=f", "MESOS_EXECUTOR_ID=e",
		"MESOS_SANDBOX=/mnt/mesos/sandbox", "GOMAXPROCS=1", "PATH=/bin"}
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cfg.Env, "GOMAXPROCS=1") || !slices.Contains(cfg.Env, "PATH=/bin") {
		t.Errorf("task environment base %q: want PATH kept and GOMAXPROCS gone", cfg.Env)
	}
}
