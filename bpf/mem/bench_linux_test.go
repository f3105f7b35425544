package mem_test

import (
	"io"
	"os"
	"testing"

	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cairnhq/cairn/bpf/mem"
	"golang.org/x/sys/unix"
)

// BenchmarkFaultOverhead measures a page-fault-heavy workload, the path the
// peak-RSS program sits on: one op maps 1 MiB of anonymous memory, writes to
// every page (256 faults, each raising the RSS counters) and unmaps it. The
// meter is detached and attached as two sub-benchmarks, and alternately
// every 256 ops in "alternating" (see bpftest.Alternate).
func BenchmarkFaultOverhead(b *testing.B) {
	bpftest.Require(b, mem.Needs...)
	page := os.Getpagesize()
	ops := func(b *testing.B, n int) {
		for range n {
			m, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < len(m); i += page {
				m[i] = 1
			}
			if err := unix.Munmap(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	attach := func() (io.Closer, error) { return mem.Open() }
	b.Run("detached", func(b *testing.B) { ops(b, b.N) })
	b.Run("attached", func(b *testing.B) {
		m, err := attach()
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		b.ResetTimer()
		ops(b, b.N)
	})
	b.Run("alternating", func(b *testing.B) {
		bpftest.Alternate(b, 256, attach, func(n int) { ops(b, n) })
	})
}
