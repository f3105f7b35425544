package allocator

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// BenchmarkAllocator measures allocation rounds on synthetic clusters. The
// sizes grow with the allocator: the 10k-50k agent cases come with the
// performance work.
func BenchmarkAllocator(b *testing.B) {
	for _, size := range []struct{ agents, frameworks int }{
		{1000, 100},
	} {
		b.Run(fmt.Sprintf("DeclineOffers/agents=%d/frameworks=%d", size.agents, size.frameworks), func(b *testing.B) {
			benchDeclineOffers(b, size.agents, size.frameworks)
		})
	}
}

// benchDeclineOffers: every framework declines every offer with a long
// filter, so each round every agent moves on to a framework that has not
// refused it yet, and the filters to check pile up until every framework
// has refused every agent. One iteration is that whole story, from an empty
// cluster to the round with no offers; ms/round is the mean round (allocate
// plus the declines).
func benchDeclineOffers(b *testing.B, agents, frameworks int) {
	total := resources.MustParse("cpus:2;mem:1024;disk:4096;ports:[31000-32000]")
	refuse := &Filter{RefuseSeconds: 24 * 3600}
	rounds, offers := 0, 0
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		a, err := New(Config{AllocationInterval: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for i := range agents {
			if err := a.AddAgent(ids.AgentID(fmt.Sprintf("agent-%05d", i)), AgentInfo{Total: total}, nil); err != nil {
				b.Fatal(err)
			}
		}
		for i := range frameworks {
			if err := a.AddFramework(ids.FrameworkID(fmt.Sprintf("fw-%04d", i)), FrameworkInfo{}, nil, true); err != nil {
				b.Fatal(err)
			}
		}
		now := time.Unix(0, 0)
		b.StartTimer()
		start := time.Now()
		for {
			als := a.Allocate(now)
			rounds++
			offers += len(als)
			if len(als) == 0 {
				break
			}
			for _, al := range als {
				if err := a.Recover(al, refuse, now); err != nil {
					b.Fatal(err)
				}
			}
			now = now.Add(time.Second)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(rounds), "ms/round")
	b.ReportMetric(float64(offers)/float64(rounds), "offers/round")
	b.ReportMetric(float64(rounds)/float64(b.N), "rounds/op")
}
