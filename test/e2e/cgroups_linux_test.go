package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupMount is where the cgroup hierarchies are mounted: one directory per
// v1 controller plus "unified" on hybrid hosts, or cgroup2 itself.
const cgroupMount = "/sys/fs/cgroup"

// removeCgroups finds every cgroup directory named root in every hierarchy
// (an agent's relative --cgroups_root sits below the cgroup of whoever
// started it, which differs per hierarchy, so the trees are searched rather
// than the path computed), kills the processes in them and their children,
// and removes them bottom-up. It returns the processes it found: after an
// agent stopped cleanly, or was restarted to clean up, there should be none.
func removeCgroups(root string) (leaks []string, err error) {
	dirs, err := findCgroups(root)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, dir := range dirs {
		var tree []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				tree = append(tree, p)
			}
			return nil
		})
		// Thaw first: a frozen process cannot act on SIGKILL.
		for _, p := range tree {
			if _, err := os.Stat(filepath.Join(p, "freezer.state")); err == nil {
				_ = os.WriteFile(filepath.Join(p, "freezer.state"), []byte("THAWED"), 0)
			}
		}
		for _, p := range tree {
			for _, pid := range cgroupProcs(p) {
				leaks = append(leaks, fmt.Sprintf("%d (%s) in %s", pid, comm(pid), p))
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		slices.Reverse(tree) // children before parents
		for _, p := range tree {
			if err := rmdirRetry(p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return leaks, errors.Join(errs...)
}

// findCgroups walks each hierarchy for directories named root.
func findCgroups(root string) ([]string, error) {
	mounts, err := os.ReadDir(cgroupMount)
	if err != nil {
		return nil, fmt.Errorf("list cgroup hierarchies: %w", err)
	}
	var found []string
	walk := func(top string) {
		_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if d.Name() == root {
				found = append(found, p)
				return filepath.SkipDir
			}
			return nil
		})
	}
	if isCgroup2(cgroupMount) {
		walk(cgroupMount)
		return found, nil
	}
	for _, m := range mounts {
		// Symlinks (cpu -> cpu,cpuacct) name hierarchies already walked.
		if m.IsDir() && m.Type()&fs.ModeSymlink == 0 {
			walk(filepath.Join(cgroupMount, m.Name()))
		}
	}
	return found, nil
}

func isCgroup2(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

func cgroupProcs(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// rmdirRetry removes an empty cgroup; killed processes take a moment to
// leave it (EBUSY meanwhile).
func rmdirRetry(dir string) error {
	var err error
	for range 100 {
		err = syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		for _, pid := range cgroupProcs(dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("rmdir %s: %w", dir, err)
}
