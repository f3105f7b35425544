package agent

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
	"github.com/cairnhq/cairn/resources"
)

// egressFacts finds the interface network/bandwidth shapes and, unless
// --resources names network_bandwidth, its link speed (the resource
// offered). A missing interface or speed is a start-up error that says
// what to set.
func egressFacts(cfg Config, resourcesFlagHasIt bool) (iface string, mbps float64, err error) {
	iface = cfg.EgressInterface
	if iface == "" {
		if iface, err = netbw.DefaultInterface(); err != nil {
			return "", 0, fmt.Errorf("find egress interface (set --egress_interface): %w", err)
		}
	}
	if resourcesFlagHasIt {
		return iface, 0, nil
	}
	if mbps, err = netbw.LinkMbps(iface); err != nil {
		return "", 0, fmt.Errorf("detect network_bandwidth: %w", err)
	}
	return iface, mbps, nil
}

// openBandwidth starts bandwidth isolation when --isolation names
// network/bandwidth: it builds the HTB tree on the egress interface, or
// adopts the one a previous agent left (recovery then reconciles it). The
// link is what the agent offers as network_bandwidth. Isolation off: nil.
func (a *Agent) openBandwidth() (*bandwidth, error) {
	if !a.netbwOn {
		return nil, nil
	}
	log := a.log.With("egress_interface", a.egress)
	if a.shaper != nil {
		b := newBandwidth(a.shaper, a.networker, log)
		b.start()
		return b, nil
	}
	if err := bpf.MountBPFFS(bpf.BPFFSPath); err != nil {
		return nil, fmt.Errorf("mount bpffs for network/bandwidth: %w", err)
	}
	iso, err := netbw.New(netbw.Config{
		Interface: a.egress,
		LinkMbps:  a.total.Scalar(netbwResource),
		Ceil:      netbw.Ceil(a.cfg.EgressCeil),
	}, log)
	if err != nil {
		return nil, fmt.Errorf("start network/bandwidth on %s: %w", a.egress, err)
	}
	n, err := openTaskNetwork(a.cfg.NetworkCIDR, iso)
	if err != nil {
		if cerr := iso.Release(); cerr != nil {
			log.Warn("let go of bandwidth isolation", "err", cerr)
		}
		return nil, err
	}
	log.Info("bandwidth isolation on", "link_bps", iso.LinkBitsPerSecond(), "egress_ceil", a.cfg.EgressCeil,
		"network", a.cfg.NetworkName, "network_cidr", a.cfg.NetworkCIDR, "gateway", n.Gateway().String())
	b := newBandwidth(iso, n, log)
	b.start()
	return b, nil
}

// closeBandwidth lets go of the shaper when the agent stops. With
// containers left running (checkpointing frameworks) the tree stays and
// keeps shaping for the next agent (Release); when none is left it is
// removed (Close), so a stopped agent leaves no tree, filter or pins.
// Idempotent.
func (a *Agent) closeBandwidth() {
	b := a.bw
	if b == nil {
		return
	}
	b.closeOnce.Do(func() {
		b.stop()
		left, err := a.ctr.Containers()
		keep := err != nil || len(left) > 0
		if keep {
			err = b.shaper.Release()
		} else {
			err = b.shaper.Close()
		}
		if b.net != nil {
			// The bridge stays while containers may be plugged into it.
			var nerr error
			if keep {
				nerr = b.net.Close()
			} else {
				nerr = b.net.Remove()
			}
			err = errors.Join(err, nerr)
		}
		if err != nil {
			a.log.Warn("let go of bandwidth isolation", "err", err)
			return
		}
		a.log.Info("bandwidth isolation stopped", "tree_kept_for_running_containers", keep)
	})
}

// startBandwidth is called once a container exists, before its tasks are
// reported running: its cgroup joins its framework's class.
func (a *Agent) startBandwidth(fw ids.FrameworkID, c ids.ContainerID) {
	if a.bw == nil {
		return
	}
	cg, ok, err := a.cgroupOf(c)
	if err != nil || !ok {
		// Without its cgroup the container's traffic stays in the default
		// class; its request still counts towards the framework's rate.
		a.log.Warn("container cgroup unknown; its traffic is not classified", "container_id", c, "err", err)
	}
	_ = a.bw.started(fw, c, cg)
}

// bandwidthRequestError says why a task's network_bandwidth cannot be
// granted on this agent, or "" when it can be.
func (a *Agent) bandwidthRequestError(want float64) string {
	if want <= 0 {
		return ""
	}
	total := a.total.Scalar(netbwResource)
	if want > total {
		return fmt.Sprintf("Task requests network_bandwidth:%g (Mbit/s) but the agent has %g in total", want, total)
	}
	return ""
}

var _ bandwidthShaper = (*netbw.Isolator)(nil)

// recoverBandwidth records the request of every live task of a re-attached
// container and makes the shaper exactly that (Reconcile): classes and
// cgroup entries a previous agent left for tasks that are gone are
// removed, the others kept in place, so running flows go on.
func (a *Agent) recoverBandwidth(st *state) {
	if a.bw == nil {
		return
	}
	live := map[ids.ContainerID]bool{}
	for fwID, fw := range st.frameworks {
		for _, e := range fw.executors {
			if !e.launched || e.exited {
				continue
			}
			live[e.container] = true
			cg, ok, err := a.cgroupOf(e.container)
			if err != nil || !ok {
				a.log.Warn("recovered container's cgroup unknown; its traffic is not classified", "container_id", e.container, "err", err)
			}
			for _, t := range e.core.Tasks() {
				if !t.Reported {
					a.bw.restore(fwID, e.container, cg, ids.TaskID(t.Info.GetTaskId().GetValue()), bandwidthRequest(t.Info.GetResources()))
				}
			}
		}
	}
	if err := a.bw.reconcile(); err != nil {
		a.log.Warn("bandwidth classes not reconciled with the recovered tasks", "err", err)
	}
	if err := a.bw.recoverTaskNets(live); err != nil {
		a.log.Warn("task networks not reconciled with the recovered tasks", "err", err)
	}
}

// bandwidthRequest is the network_bandwidth (Mbit/s) in rs; 0 when none
// or unreadable (the launch checks reject unreadable resources).
func bandwidthRequest(rs []*mesospb.Resource) float64 {
	r, err := resources.FromProto(rs)
	if err != nil {
		return 0
	}
	return r.Scalar(netbwResource)
}

// bandwidthTaskEnded takes a task that reached a terminal state out of its
// framework's rate (and its container's cgroup out of the class when no
// live task of it requests bandwidth any more). Called on the loop for
// every status update accepted.
func (a *Agent) bandwidthTaskEnded(fw *framework, exec ids.ExecutorID, s *mesospb.TaskStatus) {
	if a.bw == nil || !s.GetState().Terminal() {
		return
	}
	if e := fw.executors[exec]; e != nil {
		a.bw.endTask(e.core.Framework, e.container, ids.TaskID(s.GetTaskId().GetValue()))
	}
}
