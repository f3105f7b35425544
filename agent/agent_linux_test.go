package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// cgroupRootDirs lists where a relative --cgroups_root lands in every
// hierarchy: below this process's own cgroup, per hierarchy.
func cgroupRootDirs(t *testing.T, root string) []string {
	t.Helper()
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	// mount point of each v1 controller and of cgroup2.
	mounts := map[string]string{}
	for _, line := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup2":
			mounts[""] = f[4]
		case "cgroup":
			for _, opt := range strings.Split(g[2], ",") {
				mounts[opt] = f[4]
			}
		}
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrl := strings.Split(parts[1], ",")[0]
		if mp, ok := mounts[ctrl]; ok {
			dirs = append(dirs, filepath.Join(mp, parts[2], root))
		}
	}
	return dirs
}

// cleanCgroupsRoot removes a test's --cgroups_root from every hierarchy
// when the test ends; it returns the root's directories.
func cleanCgroupsRoot(t *testing.T, root string) []string {
	dirs := cgroupRootDirs(t, root)
	t.Cleanup(func() {
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("remove cgroups root: %v", err)
			}
		}
	})
	return dirs
}

// kernelAgent runs a real agent (Linux containerizer) under a fresh cgroups
// root named after prefix, configured by tweak, registered as m1-S1 with a
// fake master.
func kernelAgent(t *testing.T, prefix string, tweak func(*Config)) (*Agent, *testAgent) {
	t.Helper()
	root := kerneltest.Name(prefix)
	cleanCgroupsRoot(t, root)
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.CgroupsRoot = root
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := New(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.register(t, "m1-S1")
	return a, ta
}

// TestKernelOOMAndCleanShutdown runs the agent with the Linux containerizer:
// a container that blows its memory limit fails its task with
// REASON_CONTAINER_LIMITATION_MEMORY, and a running container is destroyed
// by the agent's shutdown without leaving a cgroup behind.
func TestKernelOOMAndCleanShutdown(t *testing.T) {
	kerneltest.Root(t)
	root := kerneltest.Name("cagt")
	dirs := cleanCgroupsRoot(t, root)
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.CgroupsRoot = root
	a, err := New(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.register(t, "m1-S1")

	// tail keeps the one endless "line" of /dev/zero in memory.
	ta.run(t, customExecutorTask("oom", "e-oom", "head -c 400000000 /dev/zero | tail"))
	u := ta.master.next(t)
	expectUpdate(t, u, "oom", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY ||
		u.GetStatus().GetSource() != mesospb.TaskStatus_SOURCE_AGENT {
		t.Fatalf("status %v", u.GetStatus())
	}
	ta.ack(t, u)

	ta.run(t, customExecutorTask("sleeper", "e-sleep", "sleep 300"))
	ex := ta.executor(t, "fw1", "e-sleep")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)
	ex.update("sleeper", mesospb.TaskState_TASK_RUNNING, uuidN(1))
	expectUpdate(t, ta.master.next(t), "sleeper", mesospb.TaskState_TASK_RUNNING)

	ta.stop()
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				t.Errorf("cgroup %s left behind after shutdown", filepath.Join(d, e.Name()))
			}
		}
	}
}
