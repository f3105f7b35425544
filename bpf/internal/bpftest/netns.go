package bpftest

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// Netns is a named network namespace; the zero Netns is the host's.
type Netns struct {
	Name string
}

// Path returns the namespace's bind mount, for setns.
func (n Netns) Path() string {
	if n.Name == "" {
		return "/proc/1/ns/net"
	}
	return "/run/netns/" + n.Name
}

// NewNetns creates a uniquely named network namespace with lo up; Cleanup
// deletes it.
func NewNetns(t testing.TB) Netns {
	t.Helper()
	n := Netns{Name: kerneltest.Name("cnbpf")}
	ip(t, Netns{}, "netns", "add", n.Name)
	t.Cleanup(func() { _ = ipCmd(Netns{}, "netns", "del", n.Name).Run() })
	ip(t, n, "link", "set", "lo", "up")
	return n
}

// Veth is a veth pair between two namespaces, with one address at each end
// in a /30 of 10.250.0.0/16 that no route on the host overlaps.
type Veth struct {
	NsA, NsB     Netns
	IfA, IfB     string
	AddrA, AddrB netip.Addr
}

// NewVeth joins a and b (either may be the host's) with a veth pair;
// deleting either end (Cleanup, or its namespace going away) removes both.
func NewVeth(t testing.TB, a, b Netns) Veth {
	t.Helper()
	v := Veth{NsA: a, NsB: b, IfA: kerneltest.Name("cnva"), IfB: kerneltest.Name("cnvb")}
	pfx := freeSubnet(t)
	v.AddrA = pfx.Addr().Next()
	v.AddrB = v.AddrA.Next()
	ip(t, Netns{}, "link", "add", v.IfA, "type", "veth", "peer", "name", v.IfB)
	t.Cleanup(func() { _ = ipCmd(a, "link", "del", v.IfA).Run() })
	for _, end := range []struct {
		ns   Netns
		name string
		addr netip.Addr
	}{{a, v.IfA, v.AddrA}, {b, v.IfB, v.AddrB}} {
		if end.ns.Name != "" {
			ip(t, Netns{}, "link", "set", end.name, "netns", end.ns.Name)
		}
		// No IPv6 link-local address: no neighbour discovery chatter.
		ip(t, end.ns, "link", "set", end.name, "addrgenmode", "none")
		ip(t, end.ns, "addr", "add", netip.PrefixFrom(end.addr, 30).String(), "dev", end.name)
		ip(t, end.ns, "link", "set", end.name, "up")
	}
	return v
}

// freeSubnet picks 10.250.S.0/30 with a third octet S whose /24 no route on
// the host overlaps (the test clusters in test/cluster pick /24s the same way,
// so neither steps on the other).
func freeSubnet(t testing.TB) netip.Prefix {
	t.Helper()
	out := ip(t, Netns{}, "-4", "-o", "route", "show", "table", "all")
	var used []netip.Prefix
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil {
			used = append(used, p)
		}
	}
	for _, s := range rand.Perm(254) {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, byte(s + 1), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(p) && u.Bits() > 0 {
				free = false
				break
			}
		}
		if free {
			return netip.PrefixFrom(p.Addr(), 30)
		}
	}
	t.Fatal("no free 10.250.S.0/24")
	return netip.Prefix{}
}

// LinkStats are an interface's own counters (L2 bytes, GSO packets unsplit).
type LinkStats struct {
	RxBytes, RxPackets, TxBytes, TxPackets uint64
}

// Counters reads the interface counters of ifname in ns.
func Counters(t testing.TB, ns Netns, ifname string) LinkStats {
	t.Helper()
	out := ip(t, ns, "-j", "-s", "link", "show", "dev", ifname)
	var links []struct {
		Stats struct {
			Rx struct{ Bytes, Packets uint64 }
			Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("parse counters of %s: %v in %q", ifname, err, out)
	}
	s := links[0].Stats
	return LinkStats{s.Rx.Bytes, s.Rx.Packets, s.Tx.Bytes, s.Tx.Packets}
}

func ipCmd(ns Netns, args ...string) *exec.Cmd {
	if ns.Name != "" {
		args = append([]string{"-n", ns.Name}, args...)
	}
	return exec.Command("ip", args...)
}

func ip(t testing.TB, ns Netns, args ...string) string {
	t.Helper()
	out, err := ipCmd(ns, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Addr formats an address and port for the helpers' -to and -listen flags.
func Addr(a netip.Addr, port int) string { return netip.AddrPortFrom(a, uint16(port)).String() }

// InNetns runs fn on a thread that is inside ns, and moves the thread back
// afterwards. Sockets fn creates stay in ns for their whole life, whatever
// thread later uses them.
func InNetns(t testing.TB, ns Netns, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(self)
	target, err := unix.Open(ns.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter netns %s: %v", ns.Name, err)
	}
	defer func() {
		// A thread that cannot go back stays locked, and Go retires it
		// when the goroutine ends rather than reuse it in the wrong netns.
		if err := unix.Setns(self, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}
