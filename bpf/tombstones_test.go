package bpf

import (
	"slices"
	"testing"
)

func TestTombstones(t *testing.T) {
	var ts Tombstones
	if ts.Has(7) {
		t.Fatal("empty set has 7")
	}
	ts.Add(7)
	ts.Add(8)
	found := map[uint64]bool{7: true}
	traced := func(id uint64) bool { return found[id] }

	// 7 is still traced; 8 is clean once: both stay.
	got := ts.Sweep(traced)
	slices.Sort(got)
	if !slices.Equal(got, []uint64{7, 8}) || !ts.Has(7) || !ts.Has(8) {
		t.Fatalf("first sweep: %v", got)
	}
	// 8 clean twice: dropped after being returned once more.
	delete(found, 7)
	got = ts.Sweep(traced)
	slices.Sort(got)
	if !slices.Equal(got, []uint64{7, 8}) || ts.Has(8) || !ts.Has(7) {
		t.Fatalf("second sweep: %v, has 8 %v", got, ts.Has(8))
	}
	// A trace resets the count: 7 comes back once, then needs two more.
	found[7] = true
	ts.Sweep(traced)
	delete(found, 7)
	ts.Sweep(traced)
	if !ts.Has(7) {
		t.Fatal("7 dropped after one clean sweep")
	}
	ts.Sweep(traced)
	if ts.Has(7) {
		t.Fatal("7 kept after two clean sweeps")
	}
}
