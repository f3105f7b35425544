//go:build linux

package net

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
)

// forgotten remembers cgroups the agent said are gone. Their counters may
// still sit in a CPU's cache, and the program adds them to the cgroups map
// when it evicts them; the readers hide such leftovers and delete them from
// the map, until two full reads in a row find no trace of the cgroup.
type forgotten struct {
	mu  sync.Mutex
	ids map[uint64]int // id → full reads in a row without a trace
}

func (f *forgotten) add(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids[id] = 0
}

func (f *forgotten) has(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.ids[id]
	return ok
}

// Forget drops the cgroup's counters; it reads as zero from then on. Call it
// once the cgroup is gone (cgroup ids are never reused while the system
// runs).
func (m *Meter) Forget(cgroupID uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	m.gone.add(cgroupID)
	if err := m.objs.Cgroups.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// sweep removes forgotten cgroups from a full read, deleting what cache
// evictions put back in the map, and stops remembering those that left no
// trace twice in a row (once is not enough: an eviction may fall between
// reading the map and reading the caches).
func (m *Meter) sweep(out map[uint64]Stats, inMap map[uint64]bool) error {
	f := &m.gone
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for id, clean := range f.ids {
		_, traced := out[id]
		delete(out, id)
		if inMap[id] {
			if err := m.objs.Cgroups.Delete(id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("forget cgroup %d: %w", id, err))
			}
		}
		switch {
		case traced:
			f.ids[id] = 0
		case clean >= 1:
			delete(f.ids, id)
		default:
			f.ids[id] = clean + 1
		}
	}
	return errors.Join(errs...)
}
