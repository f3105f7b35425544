package allocator

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// BenchmarkAllocator measures allocation rounds on synthetic clusters shaped
// like Mesos's allocator benchmarks (HierarchicalAllocator_BENCHMARK_Test):
// agents of cpus:2;mem:1024;disk:4096;ports:[31000-32000], each with a
// slice already used by one framework (round robin), frameworks in role
// "*", the master's configuration (shuffled agents). Every case reports
// ms/round, the mean wall time of one Allocate call over all agents;
// cpu-ms/round, the CPU time of the thread running it (the figure to trust
// on a busy machine); and the memory one such call allocates
// (allocs/round, B/round). ns/op, allocs/op and B/op are for the whole
// scenario without its setup.
//
// All 27 cases with one iteration each:
//
//	go test ./master/allocator -run '^$' -bench BenchmarkAllocator -benchtime=1x -benchmem -timeout=60m
func BenchmarkAllocator(b *testing.B) {
	for _, sc := range []struct {
		name string
		run  func(*testing.B, *benchCluster)
	}{
		{"DeclineOffers", benchDeclineOffers},
		{"AddAgents", benchAddAgents},
		{"SuppressOffers", benchSuppressOffers},
	} {
		for _, agents := range []int{1000, 10000, 50000} {
			for _, frameworks := range []int{1, 100, 1000} {
				b.Run(fmt.Sprintf("%s/agents=%d/frameworks=%d", sc.name, agents, frameworks), func(b *testing.B) {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ReportAllocs()
					sc.run(b, newBenchCluster(agents, frameworks))
				})
			}
		}
	}
}

var (
	benchAgent = resources.MustParse("cpus:2;mem:1024;disk:4096;ports:[31000-32000]")
	// benchUsed is what Mesos's AddAndUpdateSlave benchmark puts on each
	// agent: a task's worth of everything, ports in fragments.
	benchUsed = resources.MustParse("cpus:1;mem:128;disk:1024;ports:[31126-31510,31512-31623,31810-31852,31854-31964]")
)

type benchCluster struct {
	agents     []ids.AgentID
	frameworks []ids.FrameworkID
	// Per-round figures, over every Allocate timed.
	rounds       int
	elapsed, cpu time.Duration
	mallocs, mem uint64
}

func newBenchCluster(agents, frameworks int) *benchCluster {
	c := &benchCluster{}
	for i := range agents {
		c.agents = append(c.agents, ids.AgentID(fmt.Sprintf("agent-%05d", i)))
	}
	for i := range frameworks {
		c.frameworks = append(c.frameworks, ids.FrameworkID(fmt.Sprintf("framework-%04d", i)))
	}
	return c
}

// build returns an allocator with the frameworks and, unless empty, the
// agents, each with benchUsed held by a framework in turn.
func (c *benchCluster) build(b *testing.B, withAgents bool) *Allocator {
	a := mustNew(b, Config{AllocationInterval: time.Second, Shuffle: true, Seed: 1})
	for _, f := range c.frameworks {
		if err := a.AddFramework(f, FrameworkInfo{}, nil, true); err != nil {
			b.Fatal(err)
		}
	}
	if withAgents {
		c.addAgents(b, a)
	}
	return a
}

func (c *benchCluster) addAgents(b *testing.B, a *Allocator) {
	for i, id := range c.agents {
		used := []Allocation{{Framework: c.frameworks[i%len(c.frameworks)], Role: "*", Resources: benchUsed}}
		if err := a.AddAgent(id, AgentInfo{Hostname: string(id), Total: benchAgent}, used); err != nil {
			b.Fatal(err)
		}
	}
}

// allocate runs and times one round, with its memory.
func (c *benchCluster) allocate(a *Allocator, now time.Time) []Allocation {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu, start := threadCPU(), time.Now()
	als := a.Allocate(now)
	c.elapsed += time.Since(start)
	c.cpu += threadCPU() - cpu
	runtime.ReadMemStats(&after)
	c.rounds++
	c.mallocs += after.Mallocs - before.Mallocs
	c.mem += after.TotalAlloc - before.TotalAlloc
	return als
}

func (c *benchCluster) report(b *testing.B) {
	n := float64(c.rounds)
	b.ReportMetric(float64(c.elapsed.Microseconds())/1000/n, "ms/round")
	b.ReportMetric(float64(c.cpu.Microseconds())/1000/n, "cpu-ms/round")
	b.ReportMetric(float64(c.mallocs)/n, "allocs/round")
	b.ReportMetric(float64(c.mem)/n, "B/round")
}

func recoverAll(b *testing.B, a *Allocator, als []Allocation, f *Filter, now time.Time) {
	for _, al := range als {
		if err := a.Recover(al, f, now); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDeclineOffers: every framework declines everything it is offered
// with a filter that outlives the run, so each round every agent moves on
// to a framework that has not refused it yet, and the filters to look past
// pile up until every framework has refused every agent. One iteration is
// that whole story, to the round that finds nothing to offer (frameworks+1
// rounds); ms/round is the mean of its rounds.
func benchDeclineOffers(b *testing.B, c *benchCluster) {
	refuse := &Filter{RefuseSeconds: 365 * 24 * 3600}
	offers := 0
	for range b.N {
		b.StopTimer()
		a := c.build(b, true)
		runtime.GC()
		b.StartTimer()
		now := time.Unix(0, 0)
		for {
			als := c.allocate(a, now)
			offers += len(als)
			if len(als) == 0 {
				break
			}
			recoverAll(b, a, als, refuse, now)
			now = now.Add(time.Second)
		}
	}
	c.report(b)
	b.ReportMetric(float64(offers)/float64(c.rounds), "offers/round")
}

// benchAddAgents: the agents join a cluster whose frameworks are already
// subscribed (Mesos's AddAndUpdateSlave), each with a slice in use, and one
// round offers what is left of all of them.
func benchAddAgents(b *testing.B, c *benchCluster) {
	var adding time.Duration
	for range b.N {
		b.StopTimer()
		a := c.build(b, false)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		c.addAgents(b, a)
		adding += time.Since(start)
		if als := c.allocate(a, time.Unix(0, 0)); len(als) != len(c.agents) {
			b.Fatalf("%d offers for %d agents", len(als), len(c.agents))
		}
	}
	c.report(b)
	b.ReportMetric(float64(adding.Microseconds())/1000/float64(b.N), "add-ms/op")
}

// benchSuppressOffers: five rounds; before each, every offer comes back
// without a filter and another fifth of the frameworks suppresses offers,
// as in Mesos's SuppressOffers.
func benchSuppressOffers(b *testing.B, c *benchCluster) {
	for range b.N {
		b.StopTimer()
		a := c.build(b, true)
		runtime.GC()
		b.StartTimer()
		var als []Allocation
		suppressed := 0
		for i := range 5 {
			now := time.Unix(int64(i), 0)
			recoverAll(b, a, als, nil, now)
			for range len(c.frameworks) / 5 {
				if err := a.Suppress(c.frameworks[suppressed], nil); err != nil {
					b.Fatal(err)
				}
				suppressed++
			}
			als = c.allocate(a, now)
		}
	}
	c.report(b)
}
