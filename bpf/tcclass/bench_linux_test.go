package tcclass

import (
	"slices"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// BenchmarkClassify measures what classify costs per packet, with
// BPF_PROG_TEST_RUN, whose clock is the kernel's and stops while the run
// yields the CPU. Rounds of 100,000 runs alternate between a program that
// only returns (what the test harness itself costs per run), classify on a
// packet of a known cgroup (hash hit) and classify on one of an unknown
// cgroup in a map of 10,000 entries (miss: the host's own traffic; a tagged
// forwarded packet adds a compare to that). The metrics are the medians
// over rounds of the difference to the empty program, so load elsewhere on
// the machine falls into few rounds. One op is one round of the three.
func BenchmarkClassify(b *testing.B) {
	requireKernel(b)
	c := load(b, bpffs(b))
	self := bpftest.OwnCgroupID(b)
	for i := range uint64(10000) {
		if err := c.SetClass(1<<40+i, ClassID(uint16(2+i%100))); err != nil {
			b.Fatal(err)
		}
	}
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.SchedCLS, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer empty.Close()
	pkt := packet()
	const block = 100000
	run := func(p *ebpf.Program, want uint32) time.Duration {
		ret, per, err := p.Benchmark(pkt, block, nil)
		if err != nil {
			b.Fatal(err)
		}
		if ret != want {
			b.Fatalf("%s returned %#x, want %#x", p, ret, want)
		}
		return per
	}
	var base, hit, miss []float64
	for range b.N {
		e := run(empty, actUnspec)
		if err := c.SetClass(self, ClassID(2)); err != nil {
			b.Fatal(err)
		}
		h := run(c.Classify(), actOK)
		if err := c.DeleteClass(self); err != nil {
			b.Fatal(err)
		}
		m := run(c.Classify(), actUnspec)
		base = append(base, float64(e))
		hit, miss = append(hit, float64(h-e)), append(miss, float64(m-e))
	}
	b.ReportMetric(median(base), "harness-ns/run")
	b.ReportMetric(median(hit), "hit-ns/packet")
	b.ReportMetric(median(miss), "miss-ns/packet")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
