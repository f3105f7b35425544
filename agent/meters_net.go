package agent

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/netdiag"
)

// The socket states each dump asks for. On the host's network a socket is
// told apart by its cgroup, which a time-wait socket no longer has: only
// established ones are asked for. In a task's own namespace every socket
// is the task's.
const (
	hostSocketStates  = 1 << netdiag.StateEstablished
	netnsSocketStates = 1<<netdiag.StateEstablished | 1<<netdiag.StateTimeWait
)

// taskDevice is a task's end of its veth, in its own namespace.
const taskDevice = "eth0"

// netSockets is the usage.ShapingSource that adds each container's TCP
// sockets, and the counters of its own device, to the shaping inner
// reports (bandwidth isolation; nil without it). Per round: one dump of the
// host's sockets for the containers on the host network, grouped by cgroup
// v2 id, and one dump (with the device counters) per container with its own
// namespace. Sampler goroutine only.
type netSockets struct {
	inner usage.ShapingSource
	log   *slog.Logger
	// netns lists the containers with their own namespace: id → netns path.
	netns   func() map[ids.ContainerID]string
	dump    func(states uint32) ([]netdiag.Socket, error)           // netdiag.Sockets
	inNetns func(path string, states uint32) (netdiag.Netns, error) // netdiag.InNetns

	warned bool // the host dump carried no cgroup ids (logged once)
}

func (n *netSockets) Shaping(targets []usage.Target) (map[ids.ContainerID]usage.Shaping, error) {
	out := map[ids.ContainerID]usage.Shaping{}
	var errs []error
	if n.inner != nil {
		m, err := n.inner.Shaping(targets)
		if err != nil {
			errs = append(errs, err)
		}
		for c, sh := range m {
			out[c] = sh
		}
	}
	own := map[ids.ContainerID]string{}
	if n.netns != nil {
		own = n.netns()
	}
	var host map[uint64]*socketGroup
	for _, t := range targets {
		if _, ok := own[t.Container]; !ok && t.CgroupID != 0 {
			var err error
			if host, err = n.hostGroups(); err != nil {
				errs = append(errs, err)
			}
			break
		}
	}
	for _, t := range targets {
		sh := out[t.Container]
		if path, ok := own[t.Container]; ok {
			ns, err := n.inNetns(path, netnsSocketStates)
			if err != nil {
				// The task is going: its namespace with it.
				n.log.Debug("read task network namespace", "container_id", string(t.Container), "err", err)
				continue
			}
			tcp, dev := netnsFigures(ns)
			sh.TCP, sh.Device = &tcp, dev
		} else if host != nil && t.CgroupID != 0 {
			tcp := host[t.CgroupID].tcp()
			sh.TCP = &tcp
		} else {
			continue
		}
		out[t.Container] = sh
	}
	return out, errors.Join(errs...)
}

// hostGroups dumps the host's established sockets and groups them by
// cgroup; nil (no figures) when the kernel does not say whose they are.
func (n *netSockets) hostGroups() (map[uint64]*socketGroup, error) {
	socks, err := n.dump(hostSocketStates)
	if err != nil {
		return nil, fmt.Errorf("dump host TCP sockets: %w", err)
	}
	groups, ok := groupByCgroup(socks)
	if !ok {
		if !n.warned {
			n.warned = true
			n.log.Warn("the kernel's socket dumps carry no cgroup ids (Linux < 5.7); no TCP figures for tasks on the host network")
		}
		return nil, nil
	}
	return groups, nil
}

// socketGroup is the established sockets of one cgroup or namespace.
type socketGroup struct {
	active   uint64
	timeWait uint64
	rtts     []uint32
}

func (g *socketGroup) add(s netdiag.Socket) {
	switch s.State {
	case netdiag.StateEstablished:
		g.active++
		if s.HasInfo {
			g.rtts = append(g.rtts, s.RTT)
		}
	case netdiag.StateTimeWait:
		g.timeWait++
	}
}

// tcp summarises the group; a nil group (a cgroup without sockets) is
// zero connections.
func (g *socketGroup) tcp() usage.TCP {
	if g == nil {
		return usage.TCP{}
	}
	return usage.TCPOf(g.active, g.rtts)
}

// groupByCgroup groups a host dump by cgroup v2 id. ok is false when a
// socket carries no cgroup id: every full socket belongs to a cgroup (the
// root at least), so the kernel predates INET_DIAG_CGROUP_ID.
func groupByCgroup(socks []netdiag.Socket) (map[uint64]*socketGroup, bool) {
	out := map[uint64]*socketGroup{}
	for _, s := range socks {
		if s.CgroupID == 0 {
			return nil, false
		}
		g := out[s.CgroupID]
		if g == nil {
			g = &socketGroup{}
			out[s.CgroupID] = g
		}
		g.add(s)
	}
	return out, true
}

// netnsFigures summarises a task's own namespace: all its sockets, and its
// device (nil when the namespace has no taskDevice).
func netnsFigures(ns netdiag.Netns) (usage.TCP, *usage.Device) {
	var g socketGroup
	for _, s := range ns.Sockets {
		g.add(s)
	}
	tcp := usage.TCPOf(g.active, g.rtts)
	tcp.TimeWait, tcp.HasTimeWait = g.timeWait, true
	for _, d := range ns.Devices {
		if d.Name == taskDevice {
			return tcp, &usage.Device{RxErrors: d.RxErrors, RxDropped: d.RxDropped, TxErrors: d.TxErrors, TxDropped: d.TxDropped}
		}
	}
	return tcp, nil
}

// taskNetns lists the containers with their own network namespace and the
// path of each; nil without bandwidth isolation.
func (b *bandwidth) taskNetns() map[ids.ContainerID]string {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[ids.ContainerID]string, len(b.nets))
	for c, tn := range b.nets {
		out[c] = tn.Netns
	}
	return out
}

// withNetSockets wraps the usage sources' shaping with the TCP and device
// figures of netSockets. An injected containerizer (tests) has no cgroups
// to tell the host's sockets apart by: it is left as it is.
func (a *Agent) withNetSockets(inner usage.ShapingSource) usage.ShapingSource {
	if a.injected {
		return inner
	}
	if _, done := inner.(*netSockets); done {
		return inner
	}
	bw := a.bw
	return &netSockets{inner: inner, log: a.log, netns: bw.taskNetns,
		dump: netdiag.Sockets, inNetns: netdiag.InNetns}
}
