package cluster

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

// MaxNodes is the most nodes a cluster can have: .1 to .253 of its /24
// (.254 is the test process's own address).
const MaxNodes = 253

// Options configure a test cluster.
type Options struct {
	// Nodes is the number of node namespaces, 1 to MaxNodes; 0 means 1.
	Nodes int
}

// Cluster is a set of network namespaces joined by a bridge, owned by one
// test. Its fields are fixed once New returns.
type Cluster struct {
	// ID names every kernel object of the cluster: Prefix + 8 hex digits.
	ID string
	// Subnet is the cluster's 10.250.S.0/24.
	Subnet netip.Prefix
	// HostIP is the root namespace's address on the bridge, 10.250.S.254.
	HostIP netip.Addr
	// LogDir holds one log file per started process.
	LogDir string

	t     testing.TB
	hub   string // name of the netns holding the bridge
	nodes []*Node

	leftover bool // a cleanup failed; only touched by cleanups, which run in sequence

	mu       sync.Mutex
	procs    []*Proc
	logNames map[string]int
}

// Node is one namespace of the cluster: one "machine" for a master or agent.
type Node struct {
	// Index is the node's position, 0-based.
	Index int
	// IP is the node's address, 10.250.S.(Index+1), on its interface "eth0".
	IP netip.Addr
	// Netns is the path of the node's namespace, /run/netns/NAME.
	Netns string

	c    *Cluster
	port string // the bridge-side end of the node's veth, in the hub netns
}

// New builds a cluster for t and registers its removal with t.Cleanup. It
// skips (or fails, see kerneltest) when not root, and fails the test when the
// network cannot be built; whatever was built by then is still removed.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	kerneltest.Root(t)
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("cluster needs %s (apt packages iproute2, util-linux): %v", tool, err)
		}
	}
	n := opts.Nodes
	if n == 0 {
		n = 1
	}
	if n < 1 || n > MaxNodes {
		t.Fatalf("cluster: %d nodes, want 1 to %d", n, MaxNodes)
	}

	c := &Cluster{ID: kerneltest.Name(Prefix), LogDir: t.ArtifactDir(), t: t, logNames: map[string]int{}}
	c.hub = c.ID + "-hub"
	s := c.claim()
	c.Subnet = subnet(s)
	c.HostIP = hostAddr(s, 254)

	c.mustIP("netns", "add", c.hub)
	c.cleanup(func() error { return deleteNetns(c.hub) })
	c.mustIP("-n", c.hub, "link", "add", "name", "br0", "type", "bridge")
	c.mustIP("-n", c.hub, "link", "set", "br0", "up")

	// The test process's own way in: a veth from the root namespace.
	c.mustIP("link", "add", "name", c.ID, "type", "veth", "peer", "name", "host", "netns", c.hub)
	c.cleanup(func() error { return deleteLink(c.ID) })
	// No IPv6 on the root side: its link-local chatter has no business here.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+c.ID+"/disable_ipv6", []byte("1"), 0o644)
	c.mustIP("addr", "add", netip.PrefixFrom(c.HostIP, 24).String(), "dev", c.ID)
	c.mustIP("link", "set", c.ID, "up")
	c.mustIP("-n", c.hub, "link", "set", "host", "master", "br0", "up")

	for i := range n {
		c.nodes = append(c.nodes, c.addNode(i, s))
	}
	// Registered last so that it runs first: processes stop before the
	// namespaces they live in are removed.
	t.Cleanup(c.stopAll)
	return c
}

// claim sweeps leftovers of crashed runs, picks a free subnet and writes the
// state file, all under the machine-wide lock so that two clusters created at
// the same time cannot pick the same subnet.
func (c *Cluster) claim() int {
	t := c.t
	t.Helper()
	unlock, err := lockState()
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	defer unlock()
	if err := sweepLocked(Prefix); err != nil {
		t.Logf("cluster: sweep leftovers of earlier runs: %v", err) // not ours to fail on
	}
	used, err := usedPrefixes()
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	states, err := readStates("")
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	claimed := map[int]bool{}
	for _, st := range states {
		claimed[st.Subnet] = true
	}
	s, err := pickSubnet(used, claimed, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	st, err := self()
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	st.Subnet = s
	if err := writeState(c.ID, st); err != nil {
		t.Fatalf("cluster: %v", err)
	}
	// Removed last, and only when everything else went: a state file without
	// objects is harmless, objects without a state file would never be swept.
	t.Cleanup(func() {
		if c.leftover {
			c.t.Logf("cluster %s: state file kept for a later Sweep", c.ID)
			return
		}
		if err := os.Remove(statePath(c.ID)); err != nil {
			c.t.Errorf("cluster: remove state file: %v", err)
		}
	})
	return s
}

func (c *Cluster) addNode(i, s int) *Node {
	name := c.ID + "-n" + strconv.Itoa(i)
	nd := &Node{Index: i, IP: hostAddr(s, i+1), Netns: netnsDir + "/" + name, c: c, port: "n" + strconv.Itoa(i)}
	c.mustIP("netns", "add", name)
	c.cleanup(func() error { return deleteNetns(name) })
	c.mustIP("-n", name, "link", "set", "lo", "up")
	c.mustIP("link", "add", "name", "eth0", "netns", name, "type", "veth", "peer", "name", nd.port, "netns", c.hub)
	c.mustIP("-n", name, "addr", "add", netip.PrefixFrom(nd.IP, 24).String(), "dev", "eth0")
	c.mustIP("-n", name, "link", "set", "eth0", "up")
	c.mustIP("-n", c.hub, "link", "set", nd.port, "master", "br0", "up")
	return nd
}

// cleanup registers the removal of one object; a failure fails the test, since
// it leaves something behind on a shared machine.
func (c *Cluster) cleanup(remove func() error) {
	c.t.Cleanup(func() {
		if err := remove(); err != nil {
			c.leftover = true
			c.t.Errorf("cluster %s cleanup: %v", c.ID, err)
		}
	})
}

func (c *Cluster) mustIP(args ...string) {
	c.t.Helper()
	if _, err := ip(args...); err != nil {
		c.t.Fatalf("cluster %s: %v", c.ID, err)
	}
}

// Node returns node i (0-based); it fails the test when there is no such node.
func (c *Cluster) Node(i int) *Node {
	c.t.Helper()
	if i < 0 || i >= len(c.nodes) {
		c.t.Fatalf("cluster %s: no node %d (have %d)", c.ID, i, len(c.nodes))
	}
	return c.nodes[i]
}

// Nodes returns all nodes in index order.
func (c *Cluster) Nodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Cut takes node i's bridge-side link down: the node can no longer reach or
// be reached by anyone, while its processes and their sockets live on, as in
// a network partition. Cutting a cut node is harmless.
func (c *Cluster) Cut(i int) {
	c.t.Helper()
	c.mustIP("-n", c.hub, "link", "set", c.Node(i).port, "down")
}

// Heal undoes Cut. With the bridge's STP off the port forwards at once; TCP
// connections that survived the cut resume.
func (c *Cluster) Heal(i int) {
	c.t.Helper()
	c.mustIP("-n", c.hub, "link", "set", c.Node(i).port, "up")
}

// Addr returns "IP:port" of the node, for URLs and flags such as --master.
func (n *Node) Addr(port uint16) string {
	return netip.AddrPortFrom(n.IP, port).String()
}

// netnsNames lists the names of the cluster's namespaces, hub first.
func (c *Cluster) netnsNames() []string {
	names := []string{c.hub}
	for _, n := range c.nodes {
		names = append(names, n.Netns[len(netnsDir)+1:])
	}
	return names
}

func (c *Cluster) String() string { return fmt.Sprintf("cluster %s (%s)", c.ID, c.Subnet) }
