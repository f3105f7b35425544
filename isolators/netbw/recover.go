//go:build linux

package netbw

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/cairnhq/cairn/ids"
)

// build makes a fresh tree, or adopts Cairn's own. Adoption is the restart
// path and is designed so a running flow never notices it: the qdisc, the
// classes of known frameworks (with the packets queued in them) and the
// cgroup entries stay; only what nobody can own any more is removed (map
// entries first, then classes, so no packet is sent to a dead class), the
// classes are set to the current config in place, and the filter's program
// is swapped in one netlink call.
func (i *Isolator) build() error {
	q, err := rootQdisc(i.h, i.link)
	if err != nil {
		return err
	}
	if ours(q) {
		return i.adopt()
	}
	if q != nil && !replaceable[q.Type()] {
		name := i.link.Attrs().Name
		err := fmt.Errorf("shape %s: its root qdisc %s %x: was not made by cairn; remove it (tc qdisc del dev %s root) or pick another --egress_interface",
			name, q.Type(), q.Attrs().Handle>>16, name)
		return errors.Join(err, tcclass.Unpin(i.pinDir))
	}
	// Pins without their tree (a reboot keeps neither; an operator deleted
	// the qdisc) describe nothing that exists: start empty.
	if err := i.clearMaps(); err != nil {
		return err
	}
	if err := createQdisc(i.h, i.link); err != nil {
		return errors.Join(err, tcclass.Unpin(i.pinDir))
	}
	err = errors.Join(
		putClass(i.h, i.link, rootMinor, rootParams(i.link64)),
		putClass(i.h, i.link, defaultMinor, defaultParams(i.link64, 0)),
	)
	if err == nil {
		err = putFilter(i.h, i.link, i.cls)
	}
	if err != nil {
		return errors.Join(err, deleteQdisc(i.h, i.link), tcclass.Unpin(i.pinDir))
	}
	i.log.Info("netbw tree created", "interface", i.link.Attrs().Name, "link_bps", i.link64, "ceil", string(i.ceil))
	return nil
}

func (i *Isolator) clearMaps() error {
	entries, err := i.cls.Classes()
	if err != nil {
		return err
	}
	owners, err := i.cls.Frameworks()
	if err != nil {
		return err
	}
	var errs []error
	for cg := range entries {
		errs = append(errs, i.cls.DeleteClass(cg))
	}
	for c := range owners {
		errs = append(errs, i.cls.DeleteFramework(c))
	}
	return errors.Join(errs...)
}

func (i *Isolator) adopt() error {
	kernel, err := classes(i.h, i.link)
	if err != nil {
		return err
	}
	owners, err := i.cls.Frameworks()
	if err != nil {
		return err
	}
	entries, err := i.cls.Classes()
	if err != nil {
		return err
	}
	kept := map[uint32]bool{}
	var errs []error
	for classid, fw := range owners {
		minor := uint16(classid)
		c, ok := kernel[minor]
		_, dup := i.fws[ids.FrameworkID(fw)]
		if !ok || classid>>16 != tcclass.Major || minor < firstFrameworkMinor || dup {
			errs = append(errs, i.cls.DeleteFramework(classid))
			continue
		}
		i.fws[ids.FrameworkID(fw)] = &framework{minor: minor, rate: c.Rate * 8}
		kept[classid] = true
	}
	dropped := 0
	for cg, classid := range entries {
		if !kept[classid] {
			errs = append(errs, i.cls.DeleteClass(cg))
			dropped++
		}
	}
	removed := 0
	for minor := range kernel {
		if minor >= firstFrameworkMinor && !kept[tcclass.ClassID(minor)] {
			errs = append(errs, deleteClass(i.h, i.link, minor))
			removed++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("adopt netbw tree: %w", err)
	}
	if err := i.retune(); err != nil {
		return err
	}
	if err := putFilter(i.h, i.link, i.cls); err != nil {
		return err
	}
	i.log.Info("netbw tree adopted", "interface", i.link.Attrs().Name, "frameworks", len(i.fws),
		"cgroups", len(entries)-dropped, "classes_removed", removed, "cgroups_removed", dropped)
	return nil
}

// retune sets every class to the current config (link, ceil policy) in
// place: a restart with other flags changes rates without a new tree.
func (i *Isolator) retune() error {
	errs := []error{
		putClass(i.h, i.link, rootMinor, rootParams(i.link64)),
		putClass(i.h, i.link, defaultMinor, defaultParams(i.link64, i.committed())),
	}
	for _, f := range i.fws {
		errs = append(errs, putClass(i.h, i.link, f.minor, frameworkParams(f.rate, i.link64, i.ceil)))
	}
	return errors.Join(errs...)
}

func (i *Isolator) committed() uint64 {
	var sum uint64
	for _, f := range i.fws {
		sum += f.rate
	}
	return sum
}

// Share is what one framework should have: its rate (the sum of its
// running tasks' network_bandwidth) and the cgroups of those tasks.
type Share struct {
	RateMbps float64
	Cgroups  []uint64 // cgroup v2 ids (bpf.CgroupID of the container's unified cgroup)
}

// Recovered returns what New adopted from an earlier agent: each
// framework's rate and cgroups. Empty after a fresh build.
func (i *Isolator) Recovered() (map[ids.FrameworkID]Share, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, errClosed
	}
	entries, err := i.cls.Classes()
	if err != nil {
		return nil, err
	}
	out := map[ids.FrameworkID]Share{}
	for fw, f := range i.fws {
		s := Share{RateMbps: float64(f.rate) / 1e6}
		for cg, classid := range entries {
			if classid == tcclass.ClassID(f.minor) {
				s.Cgroups = append(s.Cgroups, cg)
			}
		}
		out[fw] = s
	}
	return out, nil
}

// Reconcile makes the tree exactly want: frameworks not in it are removed
// (entries first, then class), the others set to their rate, and every
// cgroup entry not listed removed. The agent calls it once it has recovered
// its containers; changes are in place, so wanted flows keep flowing.
func (i *Isolator) Reconcile(want map[ids.FrameworkID]Share) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return errClosed
	}
	entries, err := i.cls.Classes()
	if err != nil {
		return err
	}
	wanted := map[uint64]bool{}
	for _, s := range want {
		for _, cg := range s.Cgroups {
			wanted[cg] = true
		}
	}
	var errs []error
	for cg := range entries {
		if !wanted[cg] {
			errs = append(errs, i.cls.DeleteClass(cg))
		}
	}
	for fw := range i.fws {
		if _, ok := want[fw]; !ok {
			errs = append(errs, i.removeFramework(fw))
		}
	}
	for fw, s := range want {
		if err := i.setFramework(fw, s.RateMbps); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, cg := range s.Cgroups {
			errs = append(errs, i.addCgroup(cg, fw))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reconcile netbw: %w", err)
	}
	return nil
}
