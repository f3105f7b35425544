package cpu

import (
	"math"
	"time"
)

// Slots is the number of histogram slots. Slot 0 holds delays below 1024 ns,
// slot i (1..30) delays in [2^(i+9), 2^(i+10)) ns, slot 31 everything from
// 2^40 ns (about 18 minutes) up. It mirrors DELAY_SLOTS in cpu.c.
const (
	Slots     = 32
	slotShift = 9
)

// Histogram is a log2 histogram of run-queue delays.
type Histogram struct {
	Count uint64        // delays recorded
	Sum   time.Duration // their total
	Slots [Slots]uint64
}

// SlotRange returns the delays slot i holds: [lo, hi). The last slot has no
// upper bound and returns math.MaxInt64 as hi.
func SlotRange(i int) (lo, hi time.Duration) {
	switch {
	case i <= 0:
		return 0, 1 << (slotShift + 1)
	case i >= Slots-1:
		return 1 << (Slots - 1 + slotShift), math.MaxInt64
	default:
		return 1 << (i + slotShift), 1 << (i + slotShift + 1)
	}
}

// Mean returns the average delay, 0 for an empty histogram.
func (h Histogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// Quantile returns an estimate of the q-quantile (0 ≤ q ≤ 1) of the delays,
// interpolating linearly inside the slot the quantile falls in; 0 for an
// empty histogram. The estimate is never off by more than the slot's width
// (a factor of two); the last, open slot answers with its lower bound.
func (h Histogram) Quantile(q float64) time.Duration {
	var total uint64
	for _, c := range h.Slots {
		total += c
	}
	if total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := q * float64(total)
	var cum float64
	for i, c := range h.Slots {
		if c == 0 {
			continue
		}
		next := cum + float64(c)
		if rank <= next {
			lo, hi := SlotRange(i)
			if i == Slots-1 {
				return lo
			}
			f := (rank - cum) / float64(c)
			return lo + time.Duration(f*float64(hi-lo))
		}
		cum = next
	}
	lo, _ := SlotRange(Slots - 1)
	return lo
}

// Sub returns the delays recorded between old and h, two readings of the
// same cgroup. A counter that went backwards (the cgroup was forgotten and
// counted anew) yields its current value.
func (h Histogram) Sub(old Histogram) Histogram {
	out := Histogram{Count: sub(h.Count, old.Count), Sum: time.Duration(sub(uint64(h.Sum), uint64(old.Sum)))}
	for i := range h.Slots {
		out.Slots[i] = sub(h.Slots[i], old.Slots[i])
	}
	return out
}

func sub(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return a - b
}
