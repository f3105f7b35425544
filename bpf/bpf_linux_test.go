package bpf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// This kernel (and CI's) has every feature the meters use; a missing one
// skips, anything else that goes wrong while probing fails.
func TestProbe(t *testing.T) {
	kerneltest.Root(t)
	for _, r := range Probe() {
		t.Logf("%s: %v", r.Feature, r.Err)
		if r.Err == nil {
			continue
		}
		if _, ok := IsMissing(r.Err); !ok {
			t.Errorf("probe %s: %v", r.Feature, r.Err)
			continue
		}
		kerneltest.Feature(t, string(r.Feature), func() error { return r.Err })
	}
}

func TestTracepointArgs(t *testing.T) {
	kerneltest.Feature(t, string(KernelBTF), func() error { return Require(KernelBTF) })
	if err := tracepointArgs("sched_switch", "bool", "task_struct", "task_struct", ""); err != nil {
		t.Errorf("sched_switch: %v", err)
	}
	for name, args := range map[string][]string{
		"sched_switch":          {"bool", "task_struct"},                // arity
		"sched_wakeup":          {"mm_struct"},                          // type
		"no_such_tracepoint_xy": {"task_struct"},                        // existence
		"mark_victim":           {"bool", "task_struct", "task_struct"}, // arity again
	} {
		if err := tracepointArgs(name, args...); err == nil {
			t.Errorf("%s%v: no error", name, args)
		}
	}
}

func TestMounts(t *testing.T) {
	kerneltest.Root(t)
	for _, c := range []struct {
		fstype string
		mount  func(string) error
	}{{"bpf", MountBPFFS}, {"tracefs", MountTracefs}} {
		dir := filepath.Join(t.TempDir(), kerneltest.Name("cnbpf"))
		if err := c.mount(dir); err != nil {
			t.Fatalf("mount %s: %v", c.fstype, err)
		}
		t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
		if err := c.mount(dir); err != nil {
			t.Fatalf("mount %s again: %v", c.fstype, err)
		}
		if ok, err := Mounted(c.fstype, dir); !ok || err != nil {
			t.Errorf("%s at %s: mounted %v, %v", c.fstype, dir, ok, err)
		}
		if n := mountsAt(t, dir); n != 1 {
			t.Errorf("%s mounted %d times at %s, want once", c.fstype, n, dir)
		}
	}
}

func mountsAt(t *testing.T, dir string) int {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			n++
		}
	}
	return n
}

func TestCgroupID(t *testing.T) {
	kerneltest.Root(t)
	root, err := UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The root cgroup's id is 1 in every kernel with cgroup v2 ids.
	if id, err := CgroupID(root); err != nil || id != 1 {
		t.Errorf("CgroupID(%s) = %d, %v; want 1", root, id, err)
	}
	if _, err := CgroupID(t.TempDir()); err == nil {
		t.Error("CgroupID of a plain directory succeeded")
	}
	rel, err := ProcessCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CgroupID(filepath.Join(root, rel)); err != nil {
		t.Errorf("own cgroup %s: %v", rel, err)
	}
}
