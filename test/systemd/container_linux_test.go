package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

// container is a systemd booted by testdata/boot.sh, driven with nsenter.
type container struct {
	t    *testing.T
	pid1 int // systemd's pid in the host's pid namespace
	boot *exec.Cmd
	v2   bool // its /sys/fs/cgroup is cgroup2 (pure v2); set by tests that ask
}

// bootSystemd starts a container running bin's units and waits until its
// systemd has finished booting. Everything is torn down in t.Cleanup: systemd
// is powered off (killed if it does not go), then the test's cgroups and root
// directory are removed.
func bootSystemd(t *testing.T, bin string) *container {
	t.Helper()
	kerneltest.Feature(t, "cgroup namespaces", func() error {
		_, err := os.Stat("/proc/self/ns/cgroup")
		return err
	})
	for _, tool := range []string{"unshare", "nsenter", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("need %s (apt packages util-linux, coreutils): %v", tool, err)
		}
	}
	if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		kerneltest.Skip(t, "no /lib/systemd/systemd (Debian package systemd)")
	}
	name := kerneltest.Name("cairnsd")
	deploy, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("testdata/boot.sh")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(os.TempDir(), name)
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Removed last: the tmpfs on it lives in the container's mount namespace
	// and goes with it.
	t.Cleanup(func() {
		if err := os.Remove(root); err != nil {
			t.Errorf("remove container root: %v", err)
		}
	})
	cgroups := makeCgroups(t, name)
	out, err := os.Create(filepath.Join(t.ArtifactDir(), "boot.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })

	args := append([]string{script, "host", root, bin, deploy}, cgroups...)
	c := &container{t: t, boot: exec.Command("sh", args...)}
	c.boot.Stdout, c.boot.Stderr = out, out
	// If the test process dies, unshare dies, and --kill-child takes the
	// container's PID 1 and so the whole pid namespace with it.
	c.boot.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.boot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.shutdown)
	c.pid1 = c.waitPID1()
	// systemctl needs systemd's private socket, which appears a little
	// after exec; then --wait blocks until the boot is over.
	var state string
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		state, err = c.runCtx(ctx, "systemctl", "is-system-running", "--wait")
		cancel()
		// "offline": /run/systemd/system is not there yet.
		if state != "offline" && !strings.Contains(state, "Failed to connect to bus") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state != "running" {
		failed, _ := c.run("systemctl", "--failed", "--no-legend")
		t.Fatalf("systemd did not boot: %q (%v); failed units: %s", state, err, failed)
	}
	return c
}

// waitPID1 returns the host pid of unshare's child once it runs systemd.
func (c *container) waitPID1() int {
	t := c.t
	t.Helper()
	unshare := c.boot.Process.Pid
	for range 300 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unshare, unshare))
		if f := strings.Fields(string(b)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if strings.TrimSpace(string(comm)) == "systemd" {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container's PID 1 never became systemd; see boot.log in %s", t.ArtifactDir())
	return 0
}

// nsenter returns the command line that runs argv inside the container.
func (c *container) nsenter(argv ...string) []string {
	return append([]string{"nsenter", "-t", strconv.Itoa(c.pid1), "-a", "-r", "-w", "--"}, argv...)
}

// run runs argv in the container and returns its trimmed combined output.
func (c *container) run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.runCtx(ctx, argv...)
}

func (c *container) runCtx(ctx context.Context, argv ...string) (string, error) {
	full := c.nsenter(argv...)
	out, err := exec.CommandContext(ctx, full[0], full[1:]...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return s, nil
}

// must runs argv in the container and fails the test on error.
func (c *container) must(argv ...string) string {
	c.t.Helper()
	out, err := c.run(argv...)
	if err != nil {
		c.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// writeFile writes a file inside the container.
func (c *container) writeFile(path, content string) {
	c.t.Helper()
	full := c.nsenter("sh", "-c", `mkdir -p "$(dirname "$1")" && cat >"$1"`, "sh", path)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdin = strings.NewReader(content)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("write %s in the container: %v\n%s", path, err, out)
	}
}

// show returns one property of a unit (systemctl show -P).
func (c *container) show(unit, prop string) string {
	c.t.Helper()
	return c.must("systemctl", "show", "-P", prop, unit)
}

// shutdown powers the container off, or kills its PID 1 (and with it every
// process in its pid namespace) when that does not work in time.
func (c *container) shutdown() {
	exited := make(chan error, 1)
	go func() { exited <- c.boot.Wait() }()
	// SIGRTMIN+4 (glibc's SIGRTMIN is 34) asks systemd to power off. It is
	// repeated because PID 1 drops signals it has no handler for yet.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		if c.pid1 != 0 {
			_ = syscall.Kill(c.pid1, syscall.Signal(34+4))
		}
		select {
		case <-exited:
			return
		case <-tick.C:
			continue
		case <-deadline:
			c.t.Errorf("systemd did not power off in 20 s; killing it")
		}
		break
	}
	if c.pid1 != 0 {
		_ = syscall.Kill(c.pid1, syscall.SIGKILL)
	}
	_ = c.boot.Process.Kill()
	<-exited
}

// makeCgroups creates cgroup name below the test process's own cgroup in
// every mounted hierarchy and returns their directories; boot.sh moves into
// them so that they are the container's cgroup namespace roots. Cleanup
// removes them, and whatever systemd and the agent created inside, once the
// container is gone.
func makeCgroups(t *testing.T, name string) []string {
	t.Helper()
	mounts, err := cgroupMounts()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for line := range strings.Lines(string(self)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		mnt, ok := mounts[hierarchyKey(strings.Split(parts[1], ","))]
		if !ok {
			continue // a hierarchy this host does not mount
		}
		parent := filepath.Join(mnt, parts[2])
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeCgroupTree(t, dir) })
		// A v1 cpuset cgroup takes no process until it has cpus and mems.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if b, err := os.ReadFile(filepath.Join(parent, f)); err == nil && slices.Contains(strings.Split(parts[1], ","), "cpuset") {
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		dirs = append(dirs, dir)
	}
	if len(dirs) == 0 {
		t.Fatal("no cgroup hierarchy mounted")
	}
	return dirs
}

// cgroupMounts maps each mounted hierarchy (see hierarchyKey) to its
// mountpoint.
func cgroupMounts() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[1], "/sys/fs/cgroup") {
			continue
		}
		switch f[2] {
		case "cgroup2":
			m[""] = f[1]
		case "cgroup":
			var names []string
			for _, o := range strings.Split(f[3], ",") {
				switch o {
				case "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "io", "pids",
					"net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc":
					names = append(names, o)
				default:
					if strings.HasPrefix(o, "name=") {
						names = append(names, o)
					}
				}
			}
			m[hierarchyKey(names)] = f[1]
		}
	}
	return m, nil
}

// hierarchyKey names a hierarchy by its sorted controllers ("" for cgroup2).
func hierarchyKey(controllers []string) string {
	c := slices.Clone(controllers)
	slices.Sort(c)
	return strings.Join(slices.DeleteFunc(c, func(s string) bool { return s == "" }), ",")
}

// removeCgroupTree removes dir and its descendants, deepest first, retrying
// briefly while the kernel finishes reaping the container's processes.
func removeCgroupTree(t *testing.T, dir string) {
	var err error
	for range 50 {
		if err = rmTree(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("remove cgroup %s: %v", dir, err)
}

func rmTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		// A child may vanish meanwhile (the kernel or systemd removing it).
		if err := rmTree(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return syscall.Rmdir(dir)
}
