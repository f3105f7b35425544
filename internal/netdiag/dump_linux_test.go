package netdiag

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// ownCgroupID is the cgroup v2 id of the test process: the inode of its
// directory in the unified hierarchy.
func ownCgroupID(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rel string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			rel = p
		}
	}
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(root, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			continue
		}
		fi, err := os.Stat(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	kerneltest.Skip(t, "no cgroup v2 hierarchy")
	return 0
}

// connect makes an established TCP connection over loopback, in the
// calling thread's namespace; both ends stay open until the test ends.
func connect(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { s.Close() })
	// A round trip, so that both ends have measured one.
	buf := make([]byte, 1)
	if _, err := c.Write([]byte{1}); err == nil {
		s.Read(buf)
		s.Write(buf)
		c.Read(buf)
	}
}

// TestKernelSocketsCgroup: the host dump carries both ends of a loopback
// connection this process made, with this process's cgroup v2 id and a
// round-trip time.
func TestKernelSocketsCgroup(t *testing.T) {
	kerneltest.Root(t)
	cg := ownCgroupID(t)
	connect(t)
	socks, err := Sockets(1 << StateEstablished)
	if err != nil {
		t.Fatal(err)
	}
	var ours int
	for _, s := range socks {
		if s.State != StateEstablished {
			t.Errorf("asked for established sockets only, got state %d", s.State)
		}
		if s.CgroupID == cg && s.HasInfo && s.RTT > 0 && s.RTT < 1e6 {
			ours++
		}
	}
	t.Logf("%d established sockets, %d in cgroup %d with an RTT", len(socks), ours, cg)
	if ours < 2 {
		t.Fatalf("%d sockets of cgroup %d with an RTT under 1 s, want both ends of the connection", ours, cg)
	}
}

// TestKernelInNetns: in a network namespace the test makes, a loopback
// connection is two established sockets, and lo's counters are read from
// that namespace (the host's lo is never this quiet).
func TestKernelInNetns(t *testing.T) {
	kerneltest.Root(t)
	type result struct {
		n   Netns
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread ends in the new namespace: never unlocked, Go ends
		// it with the goroutine, which removes the namespace.
		runtime.LockOSThread()
		r := result{err: newNetnsWithLo()}
		if r.err == nil {
			connect(t)
			r.n, r.err = InNetns(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), 1<<StateEstablished|1<<StateTimeWait)
		}
		ch <- r
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	var est int
	for _, s := range r.n.Sockets {
		t.Logf("socket %+v", s)
		if s.State == StateEstablished && s.HasInfo && s.RTT > 0 && s.RTT < 1e6 {
			est++
		}
	}
	if est != 2 || len(r.n.Sockets) != 2 {
		t.Errorf("%d sockets, %d established with an RTT; want the 2 ends of the test's connection", len(r.n.Sockets), est)
	}
	var lo *Device
	for i := range r.n.Devices {
		if r.n.Devices[i].Name == "lo" {
			lo = &r.n.Devices[i]
		}
	}
	t.Logf("devices %+v", r.n.Devices)
	if lo == nil || lo.RxPackets == 0 || lo.RxPackets > 100 {
		t.Errorf("lo in the namespace: %+v, want the connection's few packets", lo)
	}
}

// newNetnsWithLo moves the calling (locked) thread into a new network
// namespace and brings its lo up.
func newNetnsWithLo() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare netns: %w", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}
