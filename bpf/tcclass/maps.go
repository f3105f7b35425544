//go:build linux

package tcclass

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// SetClass puts the sockets of cgroup (a cgroup v2 id, bpf.CgroupID) in
// class; packets of sockets created from then on and of those open already
// are classified there from their next packet on.
func (c *Classifier) SetClass(cgroup uint64, class uint32) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	if err := c.objs.Classes.Put(cgroup, class); err != nil {
		return fmt.Errorf("set class of cgroup %d: %w", cgroup, err)
	}
	return nil
}

// DeleteClass forgets cgroup; its packets go to the default class. Deleting
// an unknown cgroup is not an error.
func (c *Classifier) DeleteClass(cgroup uint64) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	if err := c.objs.Classes.Delete(cgroup); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("delete class of cgroup %d: %w", cgroup, err)
	}
	return nil
}

// Classes returns every cgroup → class entry.
func (c *Classifier) Classes() (map[uint64]uint32, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, errClosed
	}
	out := map[uint64]uint32{}
	var (
		k uint64
		v uint32
	)
	it := c.objs.Classes.Iterate()
	for it.Next(&k, &v) {
		out[k] = v
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read classes: %w", err)
	}
	return out, nil
}

// SetFramework records that class belongs to framework id.
func (c *Classifier) SetFramework(class uint32, id string) error {
	if id == "" || len(id) > MaxFrameworkID {
		return fmt.Errorf("set framework of class %#x: id %q is empty or longer than %d bytes", class, id, MaxFrameworkID)
	}
	var v tcclassFwName
	for i := 0; i < len(id); i++ {
		v.Id[i] = int8(id[i])
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	if err := c.objs.Frameworks.Put(class, &v); err != nil {
		return fmt.Errorf("set framework of class %#x: %w", class, err)
	}
	return nil
}

// DeleteFramework forgets whose class is; unknown classes are no error.
func (c *Classifier) DeleteFramework(class uint32) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	if err := c.objs.Frameworks.Delete(class); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("delete framework of class %#x: %w", class, err)
	}
	return nil
}

// Frameworks returns every class → framework id entry.
func (c *Classifier) Frameworks() (map[uint32]string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, errClosed
	}
	out := map[uint32]string{}
	var (
		k uint32
		v tcclassFwName
	)
	it := c.objs.Frameworks.Iterate()
	for it.Next(&k, &v) {
		b := make([]byte, 0, len(v.Id))
		for _, ch := range v.Id {
			if ch == 0 {
				break
			}
			b = append(b, byte(ch))
		}
		out[k] = string(b)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read frameworks: %w", err)
	}
	return out, nil
}
