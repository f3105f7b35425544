package netbw

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// requireKernel skips (or fails under CAIRN_REQUIRE_KERNEL=1) without root
// or tc eBPF; a probe that fails for another reason fails the test.
func requireKernel(t testing.TB) {
	t.Helper()
	kerneltest.Root(t)
	err := tcclass.Probe()
	if _, missing := bpf.IsMissing(err); err != nil && !missing {
		t.Fatalf("probe: %v", err)
	}
	kerneltest.Feature(t, string(tcclass.SchedCLS), func() error { return err })
}

// netnsPath is where `ip netns add` puts a namespace.
func netnsPath(name string) string { return "/run/netns/" + name }

// newNetns creates a uniquely named namespace with lo up.
func newNetns(t testing.TB) string {
	t.Helper()
	name := kerneltest.Name("cnbw")
	ip(t, "", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ip(t, name, "link", "set", "lo", "up")
	return name
}

// pair joins namespaces a and b with a veth, a end 10.250.0.1/30 and b end
// 10.250.0.2/30: addresses that exist only inside namespaces the test made.
// It returns the name of the a end.
func pair(t testing.TB, a, b string) string {
	t.Helper()
	ea, eb := kerneltest.Name("cnba"), kerneltest.Name("cnbb")
	ip(t, "", "link", "add", ea, "netns", a, "type", "veth", "peer", "name", eb, "netns", b)
	for _, end := range []struct{ ns, dev, addr string }{{a, ea, "10.250.0.1/30"}, {b, eb, "10.250.0.2/30"}} {
		ip(t, end.ns, "link", "set", end.dev, "addrgenmode", "none")
		ip(t, end.ns, "addr", "add", end.addr, "dev", end.dev)
		ip(t, end.ns, "link", "set", end.dev, "up")
	}
	return ea
}

func ip(t testing.TB, ns string, args ...string) string {
	t.Helper()
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	return run(t, "ip", args...)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cgroup is a cgroup v2 directory a test made.
type cgroup struct {
	path string
	id   uint64
}

func newCgroup(t testing.TB) cgroup {
	t.Helper()
	root, err := bpf.UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, kerneltest.Name("cnbw"))
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	t.Cleanup(func() {
		for range 100 {
			if err := unix.Rmdir(path); err == nil || errors.Is(err, unix.ENOENT) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("remove cgroup %s: still busy", path)
	})
	id, err := bpf.CgroupID(path)
	if err != nil {
		t.Fatal(err)
	}
	return cgroup{path, id}
}

// bpffs mounts a private bpffs (each mount is its own instance) for the
// test's pins; Cleanup unmounts it.
func bpffs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		t.Fatalf("mount bpffs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// inNetns runs fn on a thread inside the named namespace. Sockets fn
// creates stay there for their whole life.
func inNetns(t testing.TB, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(self)
	target, err := unix.Open(netnsPath(ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter netns %s: %v", ns, err)
	}
	defer func() {
		// A thread that cannot go back stays locked and dies with its
		// goroutine rather than serve others in the wrong namespace.
		if err := unix.Setns(self, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}
