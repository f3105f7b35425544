package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

const echoPort = 7000

// startEcho runs the echo helper on node i and waits until it listens.
func startEcho(t *testing.T, c *Cluster, i int) *Proc {
	t.Helper()
	argv, env := helper(t, "echo", c.Node(i).Addr(echoPort))
	p := c.Node(i).Start(fmt.Sprintf("echo%d", i), argv, env)
	Eventually(t, 10*time.Second, func() error {
		select {
		case <-p.Done():
			return fmt.Errorf("echo server exited: %s", p.Log())
		default:
		}
		if !strings.Contains(p.Log(), "listening") {
			return fmt.Errorf("echo server on node %d not listening yet", i)
		}
		return nil
	})
	return p
}

// dialFrom runs the dial helper on node from against node to and returns its
// exit code (0: the message came back).
func dialFrom(t *testing.T, c *Cluster, from, to int) int {
	t.Helper()
	argv, env := helper(t, "dial", c.Node(to).Addr(echoPort), "hello")
	p := c.Node(from).Start(fmt.Sprintf("dial%d-%d", from, to), argv, env)
	code, err := p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// dialFromRoot does what dialFrom does, from the test process itself.
func dialFromRoot(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintln(conn, "from root")
	r := bufio.NewScanner(conn)
	if !r.Scan() || r.Text() != "from root" {
		return fmt.Errorf("echo: got %q, err %v", r.Text(), r.Err())
	}
	return nil
}

func TestNodesReachEachOther(t *testing.T) {
	kerneltest.Root(t)
	c := New(t, Options{Nodes: 2})
	startEcho(t, c, 1)
	if code := dialFrom(t, c, 0, 1); code != 0 {
		t.Fatalf("node 0 -> node 1: exit %d", code)
	}
	if err := dialFromRoot(c.Node(1).Addr(echoPort)); err != nil {
		t.Fatalf("root -> node 1: %v", err)
	}
	startEcho(t, c, 0)
	if code := dialFrom(t, c, 1, 0); code != 0 {
		t.Fatalf("node 1 -> node 0: exit %d", code)
	}
}

func TestStartEntersOnlyTheNetworkNamespace(t *testing.T) {
	kerneltest.Root(t)
	c := New(t, Options{})
	argv, env := helper(t, "stubborn")
	p := c.Node(0).Start("stubborn", argv, env)
	Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(p.Log(), "ready") {
			return fmt.Errorf("helper not ready: %q", p.Log())
		}
		return nil
	})
	var st syscall.Stat_t
	if err := syscall.Stat(c.Node(0).Netns, &st); err != nil {
		t.Fatal(err)
	}
	if got, want := nsLink(t, p.Pid(), "net"), fmt.Sprintf("net:[%d]", st.Ino); got != want {
		t.Errorf("process netns = %s, want the node's %s", got, want)
	}
	for _, ns := range []string{"mnt", "pid", "cgroup", "uts", "ipc"} {
		if got, want := nsLink(t, p.Pid(), ns), nsLink(t, os.Getpid(), ns); got != want {
			t.Errorf("process %s namespace = %s, want the host's %s", ns, got, want)
		}
	}
}

func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestNoRouteOutside checks the routing tables only and asks the kernel for
// route lookups (ip route get), which send nothing.
func TestNoRouteOutside(t *testing.T) {
	kerneltest.Root(t)
	c := New(t, Options{Nodes: 2})
	for _, n := range c.Nodes() {
		name := n.Netns[len(netnsDir)+1:]
		v4 := routes(t, "-n", name, "-4", "route", "show", "table", "main")
		if len(v4) != 1 || !strings.HasPrefix(v4[0], c.Subnet.String()+" dev eth0 ") {
			t.Errorf("node %d IPv4 routes = %q, want only %s on eth0", n.Index, v4, c.Subnet)
		}
		for _, r := range append(v4, routes(t, "-n", name, "-6", "route", "show", "table", "all")...) {
			if strings.HasPrefix(r, "default") {
				t.Errorf("node %d has a default route: %q", n.Index, r)
			}
		}
		for _, a := range rootAddrs(t) {
			if c.Subnet.Contains(a) || a.IsLoopback() {
				continue
			}
			if out, err := ip("-n", name, "route", "get", a.String()); err == nil {
				t.Errorf("node %d has a route to the root namespace's %s: %s", n.Index, a, out)
			}
		}
	}
	if hub := routes(t, "-n", c.hub, "-4", "route", "show", "table", "all"); len(hub) != 0 {
		t.Errorf("hub netns has IPv4 routes %q, want none (it only bridges)", hub)
	}
	own := routes(t, "-4", "route", "show", "dev", c.ID)
	if len(own) != 1 || !strings.HasPrefix(own[0], c.Subnet.String()+" ") {
		t.Errorf("root routes via %s = %q, want only %s", c.ID, own, c.Subnet)
	}
}

func routes(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := ip(args...)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.Lines(out) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func rootAddrs(t *testing.T) []netip.Addr {
	t.Helper()
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []netip.Addr
	for _, a := range ifaces {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			addrs = append(addrs, p.Addr())
		}
	}
	if len(addrs) == 0 {
		t.Fatal("root namespace has no IPv4 address to check against")
	}
	return addrs
}

func TestCutAndHeal(t *testing.T) {
	kerneltest.Root(t)
	c := New(t, Options{Nodes: 2})
	echo := startEcho(t, c, 1)
	if code := dialFrom(t, c, 0, 1); code != 0 {
		t.Fatalf("before cut: node 0 -> node 1: exit %d", code)
	}

	c.Cut(1)
	if code := dialFrom(t, c, 0, 1); code == 0 {
		t.Error("node 0 reached node 1 across a cut link")
	}
	if err := dialFromRoot(c.Node(1).Addr(echoPort)); err == nil {
		t.Error("root reached node 1 across a cut link")
	}
	select {
	case <-echo.Done():
		t.Fatalf("the cut node's process exited: %s", echo.Log())
	default:
	}

	c.Heal(1)
	Eventually(t, 30*time.Second, func() error {
		if code := dialFrom(t, c, 0, 1); code != 0 {
			return fmt.Errorf("node 0 still cannot reach node 1 after heal (exit %d)", code)
		}
		return nil
	})
	if err := dialFromRoot(c.Node(1).Addr(echoPort)); err != nil {
		t.Errorf("after heal: root -> node 1: %v", err)
	}
}
