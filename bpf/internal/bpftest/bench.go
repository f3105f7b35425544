package bpftest

import (
	"io"
	"runtime"
	"slices"
	"testing"
	"time"
)

// Alternate runs b.N ops in blocks of block, with a meter attached for every
// other block (attach before it, Close after it, both off the clock), and
// reports the time per op of each kind, and the overhead in percent as the
// median over consecutive detached/attached pairs of blocks. On a machine
// shared with other work, blocks taken in turns see the same drift, and the
// median ignores the pairs a burst of outside load fell into.
func Alternate(b *testing.B, block int, attach func() (io.Closer, error), ops func(n int)) {
	b.Helper()
	var (
		took  [2]time.Duration // detached, attached
		done  [2]int
		det   float64 // ns/op of the last detached block
		ratio []float64
	)
	for i, round := 0, 0; i < b.N; round++ {
		n := min(block, b.N-i)
		kind := round % 2
		var m io.Closer
		b.StopTimer()
		if kind == 1 {
			var err error
			if m, err = attach(); err != nil {
				b.Fatal(err)
			}
		}
		// Loading a meter allocates; collect now rather than during the
		// block that follows, which would bias against attached blocks.
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		ops(n)
		d := time.Since(start)
		took[kind] += d
		done[kind] += n
		perOp := float64(d) / float64(n)
		if kind == 0 {
			det = perOp
		} else if n == block {
			ratio = append(ratio, perOp/det)
		}
		if m != nil {
			b.StopTimer()
			if err := m.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		i += n
	}
	if done[0] == 0 || done[1] == 0 {
		return // b.N too small for both kinds (the first, calibrating run)
	}
	b.ReportMetric(float64(took[0])/float64(done[0]), "detached-ns/op")
	b.ReportMetric(float64(took[1])/float64(done[1]), "attached-ns/op")
	if len(ratio) > 0 {
		slices.Sort(ratio)
		b.ReportMetric(100*(ratio[len(ratio)/2]-1), "overhead-%")
		b.ReportMetric(float64(len(ratio)), "pairs")
	}
}
