//go:build linux

package mem

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// PeakRSS returns the cgroup's peak RSS in bytes since Open (see the package
// doc for what that is); 0 for a cgroup the meter has not seen or was told
// to forget.
func (m *Meter) PeakRSS(cgroupID uint64) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, errClosed
	}
	if m.gone.Has(cgroupID) {
		return 0, nil
	}
	return m.peak(cgroupID)
}

// PeakAll returns the peak RSS in bytes of every cgroup the meter has seen.
func (m *Meter) PeakAll() (map[uint64]uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	// The per-CPU slots first, then the map: see peak.
	lasts, err := m.lasts()
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]uint64)
	inMap := make(map[uint64]bool)
	var (
		id    uint64
		pages []uint64
	)
	it := m.objs.Peaks.Iterate()
	for it.Next(&id, &pages) {
		out[id] = maxOf(pages)
		inMap[id] = true
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read mem meter: %w", err)
	}
	for _, l := range lasts {
		if l.CgroupId != 0 {
			out[l.CgroupId] = max(out[l.CgroupId], l.Peak)
		}
	}
	var errs []error
	for _, id := range m.gone.Sweep(func(id uint64) bool { _, ok := out[id]; return ok }) {
		delete(out, id)
		if inMap[id] {
			if err := m.objs.Peaks.Delete(id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("forget cgroup %d: %w", id, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for id, pages := range out {
		out[id] = pages * m.page
	}
	return out, nil
}

// Forget drops the cgroup's peak; it reads as zero from then on. Call it
// once the cgroup is gone (cgroup ids are never reused while the system
// runs).
func (m *Meter) Forget(cgroupID uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	m.gone.Add(cgroupID)
	if err := m.objs.Peaks.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// peak reads the cgroup's peak from the per-CPU slots and the map. It takes
// no lock: the event goroutine calls it while Close waits for that goroutine.
// Peaks only move from a slot into the map (merged, max, when the slot is
// taken by another cgroup), and the map only grows, so reading the slots
// first misses nothing: a peak merged after the slots were read is in the
// map when it is read. (The other order lost a peak merged in between; CI
// once saw 68 MB for a cgroup that had held 206 MB.)
func (m *Meter) peak(cgroupID uint64) (uint64, error) {
	lasts, err := m.lasts()
	if err != nil {
		return 0, err
	}
	var pages []uint64
	if err := m.objs.Peaks.Lookup(cgroupID, &pages); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return 0, fmt.Errorf("read mem meter: %w", err)
	}
	peak := maxOf(pages)
	for _, l := range lasts {
		if l.CgroupId == cgroupID {
			peak = max(peak, l.Peak)
		}
	}
	return peak * m.page, nil
}

func (m *Meter) lasts() ([]memLast, error) {
	var l []memLast
	if err := m.objs.Lasts.Lookup(uint32(0), &l); err != nil {
		return nil, fmt.Errorf("read mem meter: %w", err)
	}
	return l, nil
}

func maxOf(vs []uint64) uint64 {
	var x uint64
	for _, v := range vs {
		x = max(x, v)
	}
	return x
}
