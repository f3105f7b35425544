//go:build linux

package net

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Forget drops the cgroup's counters; it reads as zero from then on. Call it
// once the cgroup is gone (cgroup ids are never reused while the system
// runs). Counters a CPU's cache still holds are hidden, and deleted from the
// map when they reach it (see bpf.Tombstones).
func (m *Meter) Forget(cgroupID uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	m.gone.Add(cgroupID)
	if err := m.objs.Cgroups.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// sweep removes forgotten cgroups from a full read, deleting from the map
// what cache evictions put back.
func (m *Meter) sweep(out map[uint64]Stats, inMap map[uint64]bool) error {
	var errs []error
	for _, id := range m.gone.Sweep(func(id uint64) bool { _, ok := out[id]; return ok }) {
		delete(out, id)
		if !inMap[id] {
			continue
		}
		if err := m.objs.Cgroups.Delete(id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, fmt.Errorf("forget cgroup %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
