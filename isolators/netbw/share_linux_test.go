package netbw

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// sample is how often the borrowing test looks at goodput.
const sample = 200 * time.Millisecond

// Acceptance 2: with the default ceil (the link), a framework takes the
// bandwidth another leaves idle within 2 s, and both are back to their
// shares within 2 s of the other's return. With 20 and 50 Mbit/s on a 100
// Mbit/s link and the default class idle, the spare 30 is split in
// proportion to the rates (quantum ∝ rate), so the shares are 100·20/70 and
// 100·50/70 Mbit/s of L2 bytes.
func TestBorrowing(t *testing.T) {
	r := newRig(t, CeilLink, 100)
	a, _, _ := r.framework(t, "fw-a", 20, "5001", 1)
	b, sb, _ := r.framework(t, "fw-b", 50, "5002", 1)
	sinks := []*sink{a, b}
	shares := []float64{goodput(100 * 20 / 70.0), goodput(100 * 50 / 70.0)}
	atShares := func(row []float64) bool {
		return within(row[0], shares[0], 0.10) && within(row[1], shares[1], 0.10)
	}
	time.Sleep(1500 * time.Millisecond)
	got := average(sinks, 2*time.Second)
	t.Logf("both busy: %.2f and %.2f Mbit/s, shares %.2f and %.2f", got[0], got[1], shares[0], shares[1])
	if !atShares(got) {
		t.Errorf("both busy: goodput %.2f and %.2f Mbit/s, not within 10 %% of shares %.2f and %.2f", got[0], got[1], shares[0], shares[1])
	}

	// B goes idle: A should take (nearly) the whole link.
	t0 := time.Now()
	sb.paused.Store(true)
	borrowed := goodput(100)
	at, m := rates(sinks, sample, 20)
	took, ok := first(at, m, t0, func(i int) bool { return m[i][0] >= 0.9*borrowed && m[i][1] < 1 })
	t.Logf("B idle: A at ≥90 %% of %.2f Mbit/s after %v\n%s", borrowed, took, table(at, m, t0))
	if !ok || took > 2*time.Second {
		t.Errorf("B idle: A did not take the spare bandwidth within 2 s (took %v, reached %v)", took, ok)
	}

	// B comes back: both return to their shares.
	t1 := time.Now()
	sb.paused.Store(false)
	at, m = rates(sinks, sample, 20)
	took, ok = first(at, m, t1, func(i int) bool { return i+1 < len(m) && atShares(m[i]) && atShares(m[i+1]) })
	t.Logf("B back: both within 10 %% of their shares after %v\n%s", took, table(at, m, t1))
	if !ok || took > 2*time.Second {
		t.Errorf("B back: shares not restored within 2 s (took %v, reached %v)", took, ok)
	}
	r.logStats(t)
}

// first returns how long after since the first sample for which cond
// holds ended.
func first(at []time.Time, m [][]float64, since time.Time, cond func(i int) bool) (time.Duration, bool) {
	for i := range m {
		if cond(i) {
			return at[i].Sub(since).Round(time.Millisecond), true
		}
	}
	return 0, false
}

func table(at []time.Time, m [][]float64, since time.Time) string {
	var sb strings.Builder
	for i, row := range m {
		fmt.Fprintf(&sb, "\t%6v", at[i].Sub(since).Round(time.Millisecond))
		for _, x := range row {
			fmt.Fprintf(&sb, " %7.2f", x)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Acceptance 3: equal requests under contention get equal goodput whatever
// the number of flows: a framework with one TCP flow against one with four,
// both at 25 Mbit/s on a 100 Mbit/s link, both borrowing. Jain's index of
// their goodput over 10 s must be at least 0.98 (without the isolator, the
// four flows would take about four fifths: index ≈ 0.74).
func TestFairness(t *testing.T) {
	r := newRig(t, CeilLink, 100)
	a, _, _ := r.framework(t, "fw-a", 25, "5001", 1)
	b, _, _ := r.framework(t, "fw-b", 25, "5002", 4)
	sinks := []*sink{a, b}
	time.Sleep(1500 * time.Millisecond)
	at, m := rates(sinks, time.Second, 10)
	total := make([]float64, 2)
	worst := 1.0
	for _, row := range m {
		total[0] += row[0] / 10
		total[1] += row[1] / 10
		worst = min(worst, jain(row))
	}
	j := jain(total)
	t.Logf("10 s: %.2f and %.2f Mbit/s, Jain %.4f (worst 1 s: %.4f)\n%s", total[0], total[1], j, worst, table(at, m, at[0].Add(-time.Second)))
	if j < 0.98 {
		t.Errorf("Jain's index over 10 s = %.4f, want ≥ 0.98", j)
	}
	if sum := total[0] + total[1]; !within(sum, goodput(100), 0.05) {
		t.Errorf("together %.2f Mbit/s, want the link's %.2f ± 5 %%: borrowing is broken", sum, goodput(100))
	}
}
