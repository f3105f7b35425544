package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ErrKernelFeature wraps every "the kernel lacks X" error of the start-up probe.
var ErrKernelFeature = errors.New("kernel feature missing")

// errNotRoot is New's answer to a non-root user with the Linux containerizer.
var errNotRoot = errors.New("cairn agent must run as root: it creates cgroups and namespaces")

// probeKernel checks, once at start, what the Linux containerizer needs: the
// cpu, cpuacct (v1), memory and pids cgroup controllers — in v1 hierarchies or
// in a cgroup2 root, whichever the host has — and the mount, pid, ipc and uts
// namespaces. A missing feature is an error naming it; the agent does not run
// with less.
func probeKernel() error {
	// This thread's view, not the main thread's: libcontainer leaves the
	// threads it setns()es into a container's mount namespace to die, but
	// Go keeps the main thread alive (wedged) in that namespace, and
	// /proc/self follows the main thread. A second agent in one process (a
	// restart in tests) would then see the container's mounts.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mi, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	if err := checkCgroups(string(mi), func(dir string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		return string(b), err
	}); err != nil {
		return err
	}
	for _, ns := range []string{"mnt", "pid", "ipc", "uts"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			return fmt.Errorf("%w: %s namespace (/proc/self/ns/%s): %v", ErrKernelFeature, ns, ns, err)
		}
	}
	return nil
}

// checkCgroups decides from mountinfo whether the needed controllers are
// there. A host whose cgroup2 is mounted at /sys/fs/cgroup is pure v2 and
// must list cpu, memory and pids in its cgroup.controllers (read through
// controllers); otherwise each of cpu, cpuacct, memory and pids must have a
// mounted v1 hierarchy.
func checkCgroups(mountinfo string, controllers func(dir string) (string, error)) error {
	v1 := map[string]bool{}
	var v2root string
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup2":
			if f[4] == "/sys/fs/cgroup" {
				v2root = f[4]
			}
		case "cgroup":
			for _, opt := range strings.Split(g[2], ",") {
				v1[opt] = true
			}
		}
	}
	if v2root != "" {
		text, err := controllers(v2root)
		if err != nil {
			return fmt.Errorf("%w: cgroup v2 controllers at %s: %v", ErrKernelFeature, v2root, err)
		}
		have := strings.Fields(text)
		for _, c := range []string{"cpu", "memory", "pids"} {
			if !slices.Contains(have, c) {
				return fmt.Errorf("%w: cgroup v2 controller %q is not enabled in %s/cgroup.controllers", ErrKernelFeature, c, v2root)
			}
		}
		return nil
	}
	if len(v1) == 0 {
		return fmt.Errorf("%w: no cgroup filesystem is mounted (neither v1 hierarchies nor cgroup2 at /sys/fs/cgroup)", ErrKernelFeature)
	}
	for _, c := range []string{"cpu", "cpuacct", "memory", "pids"} {
		if !v1[c] {
			return fmt.Errorf("%w: cgroup v1 controller %q has no mounted hierarchy", ErrKernelFeature, c)
		}
	}
	return nil
}
