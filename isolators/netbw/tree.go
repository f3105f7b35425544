//go:build linux

package netbw

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Kernel features the tree needs besides tcclass.SchedCLS.
const (
	HTB    bpf.Feature = "HTB qdisc (sch_htb)"
	ClsBPF bpf.Feature = "bpf tc classifier (cls_bpf)"
)

// The filter's fixed identity on the qdisc, so that a restarted agent
// replaces it in one atomic step instead of adding a second one.
const (
	filterPrio   = 1
	filterHandle = 1
	filterName   = "cairn_netbw"
)

var qdiscHandle = netlink.MakeHandle(tcclass.Major, 0)

// replaceable are the root qdiscs the kernel or a distribution puts on an
// interface by default: replacing them takes nothing an operator chose.
var replaceable = map[string]bool{
	"": true, "noqueue": true, "pfifo_fast": true, "mq": true, "fq_codel": true,
	"pfifo": true, "fq": true,
}

// rootQdisc returns the interface's root qdisc, nil when it has none.
func rootQdisc(h *netlink.Handle, link netlink.Link) (netlink.Qdisc, error) {
	qs, err := h.QdiscList(link)
	if err != nil {
		return nil, fmt.Errorf("list qdiscs of %s: %w", link.Attrs().Name, err)
	}
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT {
			return q, nil
		}
	}
	return nil, nil
}

// ours reports whether q is a tree this package made.
func ours(q netlink.Qdisc) bool {
	return q != nil && q.Type() == "htb" && q.Attrs().Handle == qdiscHandle
}

// createQdisc replaces the root qdisc with an empty HTB tree whose default
// is defaultMinor.
func createQdisc(h *netlink.Handle, link netlink.Link) error {
	q := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: qdiscHandle})
	q.Defcls = defaultMinor
	if err := h.QdiscReplace(q); err != nil {
		return missing(HTB, fmt.Errorf("create htb on %s: %w", link.Attrs().Name, err))
	}
	return nil
}

// missing turns the kernel's answer to an unknown qdisc or classifier kind
// (ENOENT: no such module; EOPNOTSUPP) into a *bpf.MissingError naming f.
func missing(f bpf.Feature, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) {
		return &bpf.MissingError{Feature: f, Err: err}
	}
	return err
}

func deleteQdisc(h *netlink.Handle, link netlink.Link) error {
	q := &netlink.GenericQdisc{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: qdiscHandle}, QdiscType: "htb"}
	if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete htb on %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// putClass creates class minor or changes it in place (its queue and the
// packets in it stay).
func putClass(h *netlink.Handle, link netlink.Link, minor uint16, p params) error {
	parent := netlink.MakeHandle(tcclass.Major, rootMinor)
	if minor == rootMinor {
		parent = qdiscHandle
	}
	c := netlink.NewHtbClass(
		netlink.ClassAttrs{LinkIndex: link.Attrs().Index, Parent: parent, Handle: tcclass.ClassID(minor)},
		netlink.HtbClassAttrs{Rate: p.Rate, Ceil: p.Ceil, Quantum: p.Quantum, Buffer: burst(p.Rate), Cbuffer: burst(p.Ceil)},
	)
	if err := h.ClassReplace(c); err != nil {
		return fmt.Errorf("set class %x:%x (rate %d, ceil %d bit/s): %w", tcclass.Major, minor, p.Rate, p.Ceil, err)
	}
	return nil
}

// burst is how many bytes a class may send at once: a millisecond of its
// rate, and at least one GSO packet (64 KiB). With tc's default (rate/HZ +
// 1600 bytes, a couple of KiB on high-resolution kernels) every GSO packet
// overdraws the bucket and HTB re-arms its timer per packet, which costs a
// third of a 20 Gbit/s veth's throughput.
func burst(rate uint64) uint32 {
	return uint32(min(max(rate/8/1000, 64<<10), 1<<30))
}

// deleteClass removes class minor; a class that is not there is no error.
func deleteClass(h *netlink.Handle, link netlink.Link, minor uint16) error {
	c := &netlink.HtbClass{ClassAttrs: netlink.ClassAttrs{
		LinkIndex: link.Attrs().Index, Parent: netlink.MakeHandle(tcclass.Major, rootMinor), Handle: tcclass.ClassID(minor),
	}}
	if err := h.ClassDel(c); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete class %x:%x: %w", tcclass.Major, minor, err)
	}
	return nil
}

// classes lists the tree's HTB classes by minor.
func classes(h *netlink.Handle, link netlink.Link) (map[uint16]*netlink.HtbClass, error) {
	cs, err := h.ClassList(link, 0)
	if err != nil {
		return nil, fmt.Errorf("list classes of %s: %w", link.Attrs().Name, err)
	}
	out := map[uint16]*netlink.HtbClass{}
	for _, c := range cs {
		htb, ok := c.(*netlink.HtbClass)
		if ok && htb.Handle>>16 == tcclass.Major {
			out[uint16(htb.Handle)] = htb
		}
	}
	return out, nil
}

// putFilter attaches the classifier to the qdisc, or swaps the program of
// the filter already there in one step (packets are never unclassified).
// The filter's classid carries the class major: cls_bpf ORs it into what the
// program writes, and without it every packet falls to the default class.
func putFilter(h *netlink.Handle, link netlink.Link, c *tcclass.Classifier) error {
	f := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{
			LinkIndex: link.Attrs().Index, Parent: qdiscHandle, Handle: filterHandle,
			Priority: filterPrio, Protocol: unix.ETH_P_ALL,
		},
		Fd: c.Classify().FD(), Name: filterName, DirectAction: true, ClassId: qdiscHandle,
	}
	if err := h.FilterReplace(f); err != nil {
		return missing(ClsBPF, fmt.Errorf("attach classifier to %s: %w", link.Attrs().Name, err))
	}
	return nil
}
