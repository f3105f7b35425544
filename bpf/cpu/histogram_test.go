package cpu

import (
	"math"
	"testing"
	"time"
)

func TestSlotRange(t *testing.T) {
	// Slots tile [0, ∞) without gaps, each twice as wide as the last.
	var prevHi time.Duration
	for i := 0; i < Slots; i++ {
		lo, hi := SlotRange(i)
		if lo != prevHi || hi <= lo {
			t.Fatalf("slot %d = [%v, %v), previous ended at %v", i, lo, hi, prevHi)
		}
		if i > 0 && i < Slots-1 && hi != 2*lo {
			t.Errorf("slot %d = [%v, %v) is not a power-of-two slot", i, lo, hi)
		}
		prevHi = hi
	}
	if _, hi := SlotRange(Slots - 1); hi != math.MaxInt64 {
		t.Errorf("last slot ends at %v", hi)
	}
	if lo, hi := SlotRange(1); lo != 1024 || hi != 2048 {
		t.Errorf("slot 1 = [%v, %v), want [1024ns, 2048ns) as in cpu.c", lo, hi)
	}
}

func TestQuantile(t *testing.T) {
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram has a nonzero quantile or mean")
	}

	// 100 delays in [1.024µs, 2.048µs): the median interpolates to the middle.
	var h Histogram
	h.Slots[1] = 100
	h.Count, h.Sum = 100, 150*time.Microsecond
	if got := h.Quantile(0.5); got != 1536 {
		t.Errorf("p50 = %v, want 1.536µs", got)
	}
	if got := h.Quantile(0); got != 1024 {
		t.Errorf("p0 = %v, want 1.024µs", got)
	}
	if got := h.Quantile(1); got != 2048 {
		t.Errorf("p100 = %v, want 2.048µs", got)
	}
	if got := h.Mean(); got != 1500 {
		t.Errorf("mean = %v", got)
	}

	// 90 fast, 10 slow: p50 among the fast, p99 among the slow.
	var m Histogram
	m.Slots[2], m.Slots[20] = 90, 10
	p50, p90, p99 := m.Quantile(0.5), m.Quantile(0.9), m.Quantile(0.99)
	lo2, hi2 := SlotRange(2)
	lo20, hi20 := SlotRange(20)
	if p50 < lo2 || p50 >= hi2 || p99 < lo20 || p99 >= hi20 || p90 > p99 || p50 > p90 {
		t.Errorf("p50 %v, p90 %v, p99 %v", p50, p90, p99)
	}

	// The open last slot answers with its lower bound.
	var last Histogram
	last.Slots[Slots-1] = 1
	if lo, _ := SlotRange(Slots - 1); last.Quantile(0.99) != lo {
		t.Errorf("p99 in the last slot = %v", last.Quantile(0.99))
	}
}

func TestSub(t *testing.T) {
	var a, b Histogram
	a.Slots[3], a.Count, a.Sum = 5, 5, 50
	b.Slots[3], b.Slots[4], b.Count, b.Sum = 7, 2, 9, 90
	d := b.Sub(a)
	if d.Slots[3] != 2 || d.Slots[4] != 2 || d.Count != 4 || d.Sum != 40 {
		t.Errorf("b - a = %+v", d)
	}
	// Forgotten and counted anew: the newer reading is smaller.
	if r := a.Sub(b); r.Slots[3] != 5 || r.Count != 5 || r.Sum != 50 {
		t.Errorf("reset: a - b = %+v, want a", r)
	}

	s1 := Stats{OnCPU: time.Second, Switches: 10, Involuntary: 4, RunQueue: a}
	s2 := Stats{OnCPU: 3 * time.Second, Running: 1, Switches: 25, Involuntary: 5, RunQueue: b}
	d2 := s2.Sub(s1)
	if d2.OnCPU != 2*time.Second || d2.Switches != 15 || d2.Involuntary != 1 || d2.Voluntary() != 14 || d2.Running != 1 {
		t.Errorf("s2 - s1 = %+v", d2)
	}
	if back := s1.Sub(s2); back.OnCPU != 0 {
		t.Errorf("on-CPU time going backwards gives %v, want 0", back.OnCPU)
	}
}
