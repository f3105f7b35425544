//go:build linux

package netbw

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Attach makes the container's namespace, plugs it into the bridge with
// the next free address, and shapes its veth at limitMbps both ways: the
// host end's egress is what the task receives, and the task end's egress
// (a tree in the task's namespace, made before the task runs) is what it
// sends. Attaching an attached container only sets the limit. On error,
// nothing is left behind.
func (n *Network) Attach(id ids.ContainerID, limitMbps float64) (TaskNet, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return TaskNet{}, errClosedNet
	}
	if !(limitMbps > 0) {
		return TaskNet{}, fmt.Errorf("attach %s: limit %v Mbit/s is not positive", id, limitMbps)
	}
	ports, err := n.ports()
	if err != nil {
		return TaskNet{}, err
	}
	name := hostVethName(id)
	if t, ok := ports[name]; ok {
		if t.ID != id {
			return TaskNet{}, fmt.Errorf("attach %s: veth %s is %s's", id, name, t.ID)
		}
		// The agent re-attaches its containers after a restart: refresh
		// the limit and the tag program (the new isolator's) in place.
		t.LimitMbps = limitMbps
		host, err := n.h.LinkByName(name)
		if err != nil {
			return TaskNet{}, err
		}
		return t, errors.Join(n.shape(t), n.tag(host))
	}
	addr, err := n.freeAddr(ports)
	if err != nil {
		return TaskNet{}, err
	}
	t := TaskNet{ID: id, Netns: taskNetns(id), Addr: addr, Gateway: n.gw.Addr(), HostVeth: name, LimitMbps: limitMbps}
	// A namespace without its veth is what a crash before the next step
	// leaves; nothing runs in it yet.
	if err := deleteNetns(t.Netns); err != nil {
		return TaskNet{}, err
	}
	if err := createNetns(t.Netns); err != nil {
		return TaskNet{}, err
	}
	if err := n.plug(t); err != nil {
		return TaskNet{}, errors.Join(fmt.Errorf("attach %s: %w", id, err), n.unplug(t))
	}
	return t, nil
}

func (n *Network) plug(t TaskNet) error {
	ns, err := netns.GetFromPath(t.Netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: t.HostVeth, MTU: n.bridge.Attrs().MTU, TxQLen: 1000},
		PeerName:  "eth0", PeerNamespace: netlink.NsFd(ns), PeerTxQLen: 1000,
	}
	if err := n.h.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", t.HostVeth, err)
	}
	host, err := n.h.LinkByName(t.HostVeth)
	if err != nil {
		return err
	}
	// The alias last: a veth without it is no task's, and List skips it.
	for _, err := range []error{
		n.h.LinkSetMaster(host, n.bridge),
		n.h.LinkSetUp(host),
		n.insideTask(t),
		n.shape(t),
		n.tag(host),
		n.h.LinkSetAlias(host, aliasPrefix+string(t.ID)+" "+t.Addr.String()),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (n *Network) insideTask(t TaskNet) error {
	h, err := handle(t.Netns)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	return errors.Join(
		h.LinkSetUp(lo),
		h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(t.Addr)}),
		h.LinkSetUp(eth),
		h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(t.Gateway.AsSlice())}),
	)
}

// shape puts a one-class tree at t.LimitMbps on both ends of its veth, or
// changes the rate of the trees there in place.
func (n *Network) shape(t TaskNet) error {
	host, err := n.h.LinkByName(t.HostVeth)
	if err != nil {
		return fmt.Errorf("shape %s: %w", t.ID, err)
	}
	h, err := handle(t.Netns)
	if err != nil {
		return err
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("shape %s: %w", t.ID, err)
	}
	rate := bits(t.LimitMbps)
	if err := errors.Join(shapeLink(n.h, host, rate), shapeLink(h, eth, rate)); err != nil {
		return fmt.Errorf("shape %s: %w", t.ID, err)
	}
	return nil
}

func shapeLink(h *netlink.Handle, link netlink.Link, rate uint64) error {
	q, err := rootQdisc(h, link)
	if err != nil {
		return err
	}
	if !ours(q) {
		if err := createQdisc(h, link); err != nil {
			return err
		}
	}
	p := params{Rate: rate, Ceil: rate, Quantum: quantum(rate)}
	return errors.Join(putClass(h, link, rootMinor, p), putClass(h, link, defaultMinor, p))
}

// tag attaches the uplink isolator's tag program to the host end's ingress.
func (n *Network) tag(host netlink.Link) error {
	if n.cfg.Egress == nil {
		return nil
	}
	idx := host.Attrs().Index
	clsact := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
	if err := n.h.QdiscReplace(clsact); err != nil {
		return fmt.Errorf("add clsact to %s: %w", host.Attrs().Name, err)
	}
	f := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: netlink.HANDLE_MIN_INGRESS, Handle: filterHandle, Priority: filterPrio, Protocol: unix.ETH_P_ALL},
		Fd:          n.cfg.Egress.cls.Tag().FD(), Name: filterName + "_tag", DirectAction: true,
	}
	if err := n.h.FilterReplace(f); err != nil {
		return fmt.Errorf("attach tag to %s: %w", host.Attrs().Name, err)
	}
	return nil
}

// SetLimit changes an attached container's limit, both ways, in place.
func (n *Network) SetLimit(id ids.ContainerID, limitMbps float64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errClosedNet
	}
	if !(limitMbps > 0) {
		return fmt.Errorf("set limit of %s: %v Mbit/s is not positive", id, limitMbps)
	}
	return n.shape(TaskNet{ID: id, Netns: taskNetns(id), HostVeth: hostVethName(id), LimitMbps: limitMbps})
}

// Detach removes the container's veth (both ends) and its namespace.
// Detaching an unknown container is not an error.
func (n *Network) Detach(id ids.ContainerID) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errClosedNet
	}
	return n.unplug(TaskNet{ID: id, Netns: taskNetns(id), HostVeth: hostVethName(id)})
}

func (n *Network) unplug(t TaskNet) error {
	var errs []error
	if l, err := n.h.LinkByName(t.HostVeth); err == nil {
		if err := n.h.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete veth %s: %w", t.HostVeth, err))
		}
	}
	return errors.Join(append(errs, deleteNetns(t.Netns))...)
}

// List returns the attached containers, as found in the kernel (the host
// ends' aliases): after a restart, what the agent compares its recovered
// containers with.
func (n *Network) List() ([]TaskNet, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errClosedNet
	}
	ports, err := n.ports()
	if err != nil {
		return nil, err
	}
	out := make([]TaskNet, 0, len(ports))
	for _, t := range ports {
		if host, err := n.h.LinkByName(t.HostVeth); err == nil {
			if cs, err := classes(n.h, host); err == nil && cs[defaultMinor] != nil {
				t.LimitMbps = float64(cs[defaultMinor].Rate*8) / 1e6
			}
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b TaskNet) int { return a.Addr.Addr().Compare(b.Addr.Addr()) })
	return out, nil
}

// Close lets go of the netlink handle; the bridge and the tasks' veths
// stay. Idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		n.h.Close()
	}
	return nil
}

// Remove detaches every container, deletes the bridge and closes.
func (n *Network) Remove() error {
	ts, err := n.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		errs = append(errs, n.Detach(t.ID))
	}
	n.mu.Lock()
	if !n.closed {
		if err := n.h.LinkDel(n.bridge); err != nil {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", n.cfg.Bridge, err))
		}
	}
	n.mu.Unlock()
	return errors.Join(append(errs, n.Close())...)
}

var errClosedNet = errors.New("task network is closed")
