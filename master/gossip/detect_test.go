package gossip

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkFailureDetection measures how long a pool takes to report a
// member that vanished without a Leave. Close shuts the member's transport
// down at once and sends nothing, which is what its peers see of a kill -9.
// The timer runs from Close to the last survivor's Fail event, so ns/op is
// the mean time until everyone knows; the medians over all runs are
// reported as extra metrics. Each op takes seconds: run with -benchtime=5x.
func BenchmarkFailureDetection(b *testing.B) {
	for _, size := range []int{3, 5} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			var first, last []time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				nodes := startCluster(b, fmt.Sprintf("b%d-%d-", size, i), size)
				victim := nodes[len(nodes)-1]
				b.StartTimer()

				killed := time.Now()
				victim.Close()
				var seen []time.Duration
				for _, nd := range nodes[:len(nodes)-1] {
					nd.rec.await(b, Fail, victim.Name())
					_, at, _ := nd.rec.findAt(Fail, victim.Name())
					seen = append(seen, at.Sub(killed))
				}

				b.StopTimer()
				for _, nd := range nodes {
					nd.Close()
				}
				first = append(first, slices.Min(seen))
				last = append(last, slices.Max(seen))
			}
			b.ReportMetric(median(first).Seconds(), "s-first-fail(median)")
			b.ReportMetric(median(last).Seconds(), "s-all-fail(median)")
			b.Logf("runs=%d first=%v last=%v", len(last), first, last)
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
