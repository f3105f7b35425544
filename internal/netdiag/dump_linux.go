package netdiag

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Sockets dumps the TCP sockets (IPv4 and IPv6) of the caller's network
// namespace that are in one of states (a mask of 1<<State).
func Sockets(states uint32) ([]Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("open sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	var out []Socket
	buf := make([]byte, 64<<10)
	for i, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		req := DumpRequest(fam, states, uint32(i+1))
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return nil, fmt.Errorf("send sock_diag request: %w", err)
		}
		for done := false; !done; {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				return nil, fmt.Errorf("read sock_diag dump: %w", err)
			}
			if done, err = ParseDump(buf[:n], func(s Socket) { out = append(out, s) }); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Netns is what InNetns read in a network namespace.
type Netns struct {
	Sockets []Socket
	Devices []Device
}

// InNetns dumps the TCP sockets in states and reads the device counters of
// the network namespace at path (a /proc/<pid>/ns/net or a bind mount of
// one), from a thread that joins it.
func InNetns(path string, states uint32) (Netns, error) {
	type result struct {
		n   Netns
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		r.n, r.err = inNetns(path, states)
		ch <- r
	}()
	r := <-ch
	return r.n, r.err
}

// inNetns runs on its own goroutine: it locks it to its thread and unlocks
// it only once the thread is back in its namespace.
func inNetns(path string, states uint32) (Netns, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return Netns{}, fmt.Errorf("open own netns: %w", err)
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		runtime.UnlockOSThread()
		return Netns{}, fmt.Errorf("open netns: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return Netns{}, fmt.Errorf("join netns %s: %w", path, err)
	}
	n, err := readNetns(states)
	if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return n, err
}

// readNetns reads the namespace the calling thread is in.
func readNetns(states uint32) (Netns, error) {
	var n Netns
	var err error
	if n.Sockets, err = Sockets(states); err != nil {
		return Netns{}, err
	}
	// /proc/thread-self/net follows this thread's namespace, where
	// /proc/self/net follows the main thread's.
	b, err := os.ReadFile("/proc/thread-self/net/dev")
	if err != nil {
		return Netns{}, fmt.Errorf("read net/dev: %w", err)
	}
	if n.Devices, err = ParseNetDev(b); err != nil {
		return Netns{}, err
	}
	return n, nil
}
