package agent

import (
	"fmt"
	"net/netip"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
	"google.golang.org/protobuf/proto"
)

// taskNetworker is what the agent needs for tasks with their own network
// namespace: *netbw.Network, a fake in tests.
type taskNetworker interface {
	Attach(id ids.ContainerID, limitMbps float64) (netbw.TaskNet, error)
	Detach(id ids.ContainerID) error
	List() ([]netbw.TaskNet, error)
	Stats(id ids.ContainerID) (rx, tx netbw.ClassStats, err error)
	Close() error
	Remove() error
}

var _ taskNetworker = (*netbw.Network)(nil)

// wantsTaskNet says whether a task asks for its own network namespace: its
// ContainerInfo (the task's, or its executor's) names --network_name in
// network_infos, as a Mesos task names a CNI network.
func (a *Agent) wantsTaskNet(t *mesospb.TaskInfo, exec *mesospb.ExecutorInfo) bool {
	for _, ci := range []*mesospb.ContainerInfo{t.GetContainer(), exec.GetContainer()} {
		for _, n := range ci.GetNetworkInfos() {
			if n.GetName() == a.cfg.NetworkName {
				return true
			}
		}
	}
	return false
}

// attachTaskNet gives a container its own network namespace on the
// agent's bridge, shaped both ways at limitMbps (the link when the task
// requests no bandwidth), before the container is created; the
// containerizer joins the namespace at Spec.NetNS. Called from the launch
// goroutine.
func (a *Agent) attachTaskNet(c ids.ContainerID, limitMbps float64) (string, error) {
	b := a.bw
	if b == nil || b.net == nil {
		return "", fmt.Errorf("network %q needs --isolation with %s", a.cfg.NetworkName, IsolationNetworkBandwidth)
	}
	if limitMbps <= 0 {
		limitMbps = a.total.Scalar(netbwResource)
	}
	tn, err := b.net.Attach(c, limitMbps)
	if err != nil {
		return "", fmt.Errorf("attach container to network %q: %w", a.cfg.NetworkName, err)
	}
	b.mu.Lock()
	b.nets[c] = tn
	b.mu.Unlock()
	a.log.Info("container attached to its network", "container_id", c, "network", a.cfg.NetworkName, "ip", tn.Addr.Addr().String(), "limit_mbps", limitMbps)
	return tn.Netns, nil
}

// taskNetInfos is what a status update of the container says about its
// network (Mesos's ContainerStatus.network_infos): its address on the
// agent's network, nil for a task on the host's network.
func (a *Agent) taskNetInfos(c ids.ContainerID) []*mesospb.NetworkInfo {
	b := a.bw
	if b == nil {
		return nil
	}
	b.mu.Lock()
	tn, ok := b.nets[c]
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return []*mesospb.NetworkInfo{{
		Name: proto.String(a.cfg.NetworkName),
		IpAddresses: []*mesospb.NetworkInfo_IPAddress{{
			Protocol:  mesospb.NetworkInfo_IPv4.Enum(),
			IpAddress: proto.String(tn.Addr.Addr().String()),
		}},
	}}
}

// withTaskNet adds the network of the executor's container to a status
// update of one of its tasks. Runs on the loop.
func (a *Agent) withTaskNet(fw *framework, exec ids.ExecutorID, s *mesospb.TaskStatus) {
	e := fw.executors[exec]
	if e == nil {
		return
	}
	infos := a.taskNetInfos(e.container)
	if infos == nil {
		return
	}
	if s.ContainerStatus == nil {
		s.ContainerStatus = &mesospb.ContainerStatus{ContainerId: &mesospb.ContainerID{Value: proto.String(string(e.container))}}
	}
	s.ContainerStatus.NetworkInfos = infos
}

// recoverTaskNets keeps the namespaces of recovered running containers
// (found in the kernel by List) and removes the others: their containers
// are gone. live says which containers run.
func (b *bandwidth) recoverTaskNets(live map[ids.ContainerID]bool) error {
	if b.net == nil {
		return nil
	}
	found, err := b.net.List()
	if err != nil {
		return fmt.Errorf("list task networks: %w", err)
	}
	for _, tn := range found {
		if live[tn.ID] {
			b.mu.Lock()
			b.nets[tn.ID] = tn
			b.mu.Unlock()
			continue
		}
		if err := b.net.Detach(tn.ID); err != nil {
			b.log.Warn("remove network of a container that is gone", "container_id", tn.ID, "err", err)
		}
	}
	return nil
}

// openTaskNetwork opens the bridge tasks with their own namespace plug
// into, its addresses from --network_cidr; uplink traffic of those tasks
// is classified by egress.
func openTaskNetwork(cidr string, egress *netbw.Isolator) (*netbw.Network, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("parse --network_cidr: %w", err)
	}
	n, err := netbw.OpenNetwork(netbw.NetConfig{CIDR: p, Egress: egress})
	if err != nil {
		return nil, fmt.Errorf("open task network: %w", err)
	}
	return n, nil
}

// netStats reads the classes of a container's veth; ok is false for a
// container on the host's network or when they could not be read.
func (b *bandwidth) netStats(c ids.ContainerID) (rx, tx netbw.ClassStats, ok bool) {
	b.mu.Lock()
	_, own := b.nets[c]
	b.mu.Unlock()
	if !own {
		return rx, tx, false
	}
	rx, tx, err := b.net.Stats(c)
	if err != nil {
		b.log.Debug("read task network classes", "container_id", c, "err", err)
		return rx, tx, false
	}
	return rx, tx, true
}
