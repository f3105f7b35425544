//go:build linux

package netbw

import (
	"fmt"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/vishvananda/netlink"
)

// ClassStats are one leaf class's settings and the kernel's counters for it.
// Bytes are what HTB charges: L2 frames (Ethernet header included), GSO
// packets counted per segment with their headers.
type ClassStats struct {
	Framework  ids.FrameworkID // empty for the default class
	ClassID    uint32
	Rate, Ceil uint64 // bit/s
	Bytes      uint64
	Packets    uint64
	Drops      uint64 // packets dropped by the class's queue
	Overlimits uint64 // times the class had to wait for tokens
	Backlog    uint64 // bytes queued now
	Qlen       uint64 // packets queued now
	Requeues   uint64
}

// Stats returns the default class first, then the frameworks' by class id.
func (i *Isolator) Stats() ([]ClassStats, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, errClosed
	}
	kernel, err := classes(i.h, i.link)
	if err != nil {
		return nil, err
	}
	owner := map[uint16]ids.FrameworkID{}
	for fw, f := range i.fws {
		owner[f.minor] = fw
	}
	var out []ClassStats
	for minor, c := range kernel {
		fw, known := owner[minor]
		if minor != defaultMinor && !known {
			continue
		}
		s := classStats(c)
		s.Framework = fw
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ClassStats) int { return int(a.ClassID) - int(b.ClassID) })
	return out, nil
}

func classStats(c *netlink.HtbClass) ClassStats {
	s := ClassStats{ClassID: c.Handle, Rate: c.Rate * 8, Ceil: c.Ceil * 8}
	if st := c.Statistics; st != nil {
		if b := st.Basic; b != nil {
			s.Bytes, s.Packets = b.Bytes, uint64(b.Packets)
		}
		if q := st.Queue; q != nil {
			s.Drops, s.Overlimits, s.Backlog = uint64(q.Drops), uint64(q.Overlimits), uint64(q.Backlog)
			s.Qlen, s.Requeues = uint64(q.Qlen), uint64(q.Requeues)
		}
	}
	return s
}

// Stats returns the counters of a task's veth: Rx is its host end's class
// (what the task received), Tx its own end's (what it sent). Their Rate is
// the task's limit: Mesos's net_rx_rate_limit and net_tx_rate_limit.
func (n *Network) Stats(id ids.ContainerID) (rx, tx ClassStats, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return rx, tx, errClosedNet
	}
	rx, err = leafStats(n.h, hostVethName(id))
	if err != nil {
		return rx, tx, err
	}
	h, err := handle(taskNetns(id))
	if err != nil {
		return rx, tx, err
	}
	defer h.Close()
	tx, err = leafStats(h, "eth0")
	return rx, tx, err
}

func leafStats(h *netlink.Handle, dev string) (ClassStats, error) {
	l, err := h.LinkByName(dev)
	if err != nil {
		return ClassStats{}, fmt.Errorf("task veth stats: %w", err)
	}
	cs, err := classes(h, l)
	if err != nil {
		return ClassStats{}, err
	}
	c, ok := cs[defaultMinor]
	if !ok {
		return ClassStats{}, fmt.Errorf("task veth stats: %s is not shaped", dev)
	}
	return classStats(c), nil
}
