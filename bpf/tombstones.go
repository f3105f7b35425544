package bpf

import "sync"

// Tombstones remembers cgroups a meter was told to forget while their
// counters may still come back: a program may hold a forgotten cgroup's
// counters in a per-CPU cache and add them to its map when it evicts them.
// The meter hides tombstoned cgroups from readers, deletes what comes back,
// and drops a tombstone once two full reads in a row found no trace of the
// cgroup (one is not enough: an eviction may fall between reading the map
// and reading the caches). The zero value is ready; safe for concurrent use.
type Tombstones struct {
	mu  sync.Mutex
	ids map[uint64]int // id → full reads in a row without a trace
}

// Add tombstones a cgroup.
func (t *Tombstones) Add(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ids == nil {
		t.ids = make(map[uint64]int)
	}
	t.ids[id] = 0
}

// Has reports whether a cgroup is tombstoned.
func (t *Tombstones) Has(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.ids[id]
	return ok
}

// Sweep is called after each full read with what the read found: it returns
// every tombstoned cgroup (for the meter to hide and delete) and forgets
// those traced found no trace of twice in a row.
func (t *Tombstones) Sweep(traced func(id uint64) bool) []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]uint64, 0, len(t.ids))
	for id, clean := range t.ids {
		out = append(out, id)
		switch {
		case traced(id):
			t.ids[id] = 0
		case clean >= 1:
			delete(t.ids, id)
		default:
			t.ids[id] = clean + 1
		}
	}
	return out
}
