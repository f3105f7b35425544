//go:build linux

package netbw

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/cairnhq/cairn/ids"
)

// SetFramework creates the framework's class, or changes its rate in place
// (queued packets stay). rateMbps is the sum of its running tasks'
// network_bandwidth and must be positive: a framework whose tasks request
// nothing has no class (RemoveFramework) and its tasks' cgroups are not
// added. The default class is given what the frameworks leave of the link.
func (i *Isolator) SetFramework(fw ids.FrameworkID, rateMbps float64) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return errClosed
	}
	return i.setFramework(fw, rateMbps)
}

func (i *Isolator) setFramework(fw ids.FrameworkID, rateMbps float64) error {
	if !(rateMbps > 0) || rateMbps > 1e9 {
		return fmt.Errorf("set bandwidth of framework %s: rate %v Mbit/s is not in (0, 1e9]", fw, rateMbps)
	}
	f, ok := i.fws[fw]
	if !ok {
		used := map[uint16]bool{}
		for _, g := range i.fws {
			used[g.minor] = true
		}
		minor, err := freeMinor(used)
		if err != nil {
			return err
		}
		// The owner first: a crash before the class exists leaves an entry
		// that adoption removes, never a class nobody can name.
		if err := i.cls.SetFramework(tcclass.ClassID(minor), string(fw)); err != nil {
			return err
		}
		f = &framework{minor: minor}
	}
	old := f.rate
	f.rate = bits(rateMbps)
	if err := putClass(i.h, i.link, f.minor, frameworkParams(f.rate, i.link64, i.ceil)); err != nil {
		f.rate = old
		if !ok {
			err = errors.Join(err, i.cls.DeleteFramework(tcclass.ClassID(f.minor)))
		}
		return fmt.Errorf("set bandwidth of framework %s: %w", fw, err)
	}
	i.fws[fw] = f
	return i.putDefault()
}

func (i *Isolator) putDefault() error {
	return putClass(i.h, i.link, defaultMinor, defaultParams(i.link64, i.committed()))
}

// AddCgroup sends the traffic of the sockets of cgroup (a cgroup v2 id) to
// the framework's class, from their next packet on. The framework must have
// a class (SetFramework). Adding again, or under another framework, moves it.
func (i *Isolator) AddCgroup(cgroup uint64, fw ids.FrameworkID) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return errClosed
	}
	return i.addCgroup(cgroup, fw)
}

func (i *Isolator) addCgroup(cgroup uint64, fw ids.FrameworkID) error {
	f, ok := i.fws[fw]
	if !ok {
		return fmt.Errorf("add cgroup %d: framework %s has no bandwidth class", cgroup, fw)
	}
	return i.cls.SetClass(cgroup, tcclass.ClassID(f.minor))
}

// RemoveCgroup sends the cgroup's traffic back to the default class.
// Removing an unknown cgroup is not an error.
func (i *Isolator) RemoveCgroup(cgroup uint64) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return errClosed
	}
	return i.cls.DeleteClass(cgroup)
}

// RemoveFramework removes the framework's class: first every cgroup entry
// pointing at it (their packets go to the default class from then on), then
// the class, so no packet is ever classified into a class that is gone.
// Unknown frameworks are no error.
func (i *Isolator) RemoveFramework(fw ids.FrameworkID) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return errClosed
	}
	return i.removeFramework(fw)
}

func (i *Isolator) removeFramework(fw ids.FrameworkID) error {
	f, ok := i.fws[fw]
	if !ok {
		return nil
	}
	classid := tcclass.ClassID(f.minor)
	entries, err := i.cls.Classes()
	if err != nil {
		return err
	}
	for cg, c := range entries {
		if c == classid {
			if err := i.cls.DeleteClass(cg); err != nil {
				return err
			}
		}
	}
	if err := deleteClass(i.h, i.link, f.minor); err != nil {
		return fmt.Errorf("remove framework %s: %w", fw, err)
	}
	delete(i.fws, fw)
	return errors.Join(i.cls.DeleteFramework(classid), i.putDefault())
}
