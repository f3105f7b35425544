package containerizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/executor"
	"github.com/cairnhq/cairn/isolators"
)

func TestTaskCgroupEnvMatchesExecutor(t *testing.T) {
	if TaskCgroupFDEnv != executor.TaskCgroupFDEnv {
		t.Fatalf("containerizer hands %s, the executor reads %s", TaskCgroupFDEnv, executor.TaskCgroupFDEnv)
	}
}

// A container with a task quota has a nested cpu cgroup with that quota,
// and its init gets that cgroup's cgroup.procs: a process that writes its
// pid there leaves the container's cpu cgroup for the nested one, keeping
// the container's quota above it. Destroy removes both.
func TestTaskCgroup(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.CPU{EnableCFS: true}).Spec(isolators.Request{CPUs: 0.6, QuotaCPUs: 0.5}, &lim); err != nil {
		t.Fatal(err)
	}
	if l.host.mode == modeUnified {
		// No nesting on v2: the task's quota holds the whole container.
		s := shell(b, "sleep 30")
		s.Limits = lim
		id := launch(t, l, s)
		if q := cgroupFile(t, l, id, "", "cpu.max"); q != "50000 100000" {
			t.Errorf("v2 container cpu.max %q, want the task's 50000 100000", q)
		}
		return
	}
	// The shell moves itself, then prints its cpu cgroup from a child
	// (which inherits it) and from before the move, via the fd number.
	s := shell(b, `grep -E '[:,]cpu[,:]' /proc/self/cgroup; echo $$ >&$`+TaskCgroupFDEnv+`; grep -E '[:,]cpu[,:]' /proc/self/cgroup; echo fd=$`+TaskCgroupFDEnv+`; sleep 30`)
	s.Limits = lim
	id := launch(t, l, s)
	paths, err := l.CgroupPaths(id)
	if err != nil {
		t.Fatal(err)
	}
	cpu := paths["cpu"]
	if q := cgroupFile(t, l, id, "cpu", "cpu.cfs_quota_us"); q != "60000" {
		t.Errorf("container quota %s, want 60000 (task plus executor)", q)
	}
	nested := filepath.Join(cpu, taskCgroupName)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if stdout, _ := b.out(t); strings.Contains(stdout, "fd=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container never printed its cgroups")
		}
	}
	q, err := os.ReadFile(filepath.Join(nested, "cpu.cfs_quota_us"))
	if err != nil || strings.TrimSpace(string(q)) != "50000" {
		t.Errorf("task cgroup quota %q (%v), want 50000", q, err)
	}
	stdout, stderr := b.out(t)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || strings.HasSuffix(lines[0], "/"+taskCgroupName) || !strings.HasSuffix(lines[1], "/"+taskCgroupName) || lines[2] != "fd=3" {
		t.Errorf("cpu cgroup before and after the move, and the fd: %q (stderr %q)", lines, stderr)
	}
	procs, err := os.ReadFile(filepath.Join(nested, "cgroup.procs"))
	if err != nil || len(strings.Fields(string(procs))) != 2 { // the shell and its sleep
		t.Errorf("task cgroup holds %q (%v), want the shell and its sleep", procs, err)
	}
	if err := l.Destroy(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cpu); !os.IsNotExist(err) {
		t.Errorf("container cpu cgroup after Destroy: %v", err)
	}
}
