//go:build linux

package net

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Read returns the cgroup's traffic: what the cgroups map holds plus what
// the CPUs' caches hold. A cgroup without any reads as zero.
//
// The map and the caches are read one after the other; Read retries when a
// CPU that cached the cgroup counted a packet in between, so the result is
// exact unless those CPUs count faster than a few syscalls, in which case
// traffic a cache handed to the map during the read may be missing (never
// counted twice) until the next read.
func (m *Meter) Read(cgroupID uint64) (Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Stats{}, errClosed
	}
	if m.gone.Has(cgroupID) {
		return Stats{}, nil
	}
	var vals []netTraffic
	for attempt := 0; ; attempt++ {
		before, err := m.caches()
		if err != nil {
			return Stats{}, err
		}
		vals = vals[:0]
		if err := m.objs.Cgroups.Lookup(cgroupID, &vals); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return Stats{}, fmt.Errorf("read net meter: %w", err)
		}
		after, err := m.caches()
		if err != nil {
			return Stats{}, err
		}
		if attempt < 3 && !settled(before, after, cgroupID) {
			continue
		}
		var s Stats
		for _, v := range vals {
			s.add(&v)
		}
		for i := range after {
			if after[i].Seq%2 != 0 {
				continue // caught mid-update (only after the retries)
			}
			for _, p := range after[i].Cached {
				if p.CgroupId == cgroupID {
					s.add(&p.T)
				}
			}
		}
		return s, nil
	}
}

// ReadAll returns the traffic of every cgroup that had any. It does not
// retry (see Read): traffic a cache hands to the map during the read may be
// missing until the next read.
func (m *Meter) ReadAll() (map[uint64]Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	out := make(map[uint64]Stats)
	inMap := make(map[uint64]bool)
	var (
		id   uint64
		vals []netTraffic
	)
	it := m.objs.Cgroups.Iterate()
	for it.Next(&id, &vals) {
		var s Stats
		for _, v := range vals {
			s.add(&v)
		}
		out[id] = s
		inMap[id] = true
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read net meter: %w", err)
	}
	after, err := m.caches()
	if err != nil {
		return nil, err
	}
	for i := range after {
		if after[i].Seq%2 != 0 {
			continue
		}
		for _, p := range after[i].Cached {
			if p.CgroupId != 0 {
				s := out[p.CgroupId]
				s.add(&p.T)
				out[p.CgroupId] = s
			}
		}
	}
	if err := m.sweep(out, inMap); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *Meter) caches() ([]netCache, error) {
	var c []netCache
	if err := m.objs.Caches.Lookup(uint32(0), &c); err != nil {
		return nil, fmt.Errorf("read net meter caches: %w", err)
	}
	return c, nil
}

// settled reports whether no CPU that cached the cgroup, in either reading,
// changed its cache between the two, nor was changing it.
func settled(before, after []netCache, id uint64) bool {
	if len(before) != len(after) {
		return false
	}
	for i := range after {
		b, a := &before[i], &after[i]
		if (caches(b, id) || caches(a, id)) && (b.Seq != a.Seq || a.Seq%2 != 0) {
			return false
		}
	}
	return true
}

func caches(c *netCache, id uint64) bool {
	for _, p := range c.Cached {
		if p.CgroupId == id {
			return true
		}
	}
	return false
}

func (s *Stats) add(v *netTraffic) {
	s.RxBytes += v.RxBytes
	s.RxPackets += v.RxPackets
	s.TxBytes += v.TxBytes
	s.TxPackets += v.TxPackets
}
