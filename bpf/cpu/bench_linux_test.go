package cpu_test

import (
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"golang.org/x/sys/unix"
)

// BenchmarkSchedOverhead measures a context-switch-heavy workload: one byte
// ping-ponged over two pipes between this thread and a helper process, both
// pinned to CPU 0, so each op is two blocking reads, two wakeups and at least
// two context switches. Detached and attached as two sub-benchmarks, and as
// "alternating", which switches between the two every 1024 round trips and
// reports both and the overhead in percent (see bpftest.Alternate), the
// figure to trust on a busy machine.
func BenchmarkSchedOverhead(b *testing.B) {
	bpftest.Require(b, cpu.Needs...)
	cg := bpftest.NewCgroup(b)
	var ping, pong [2]int
	if err := unix.Pipe2(ping[:], unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	if err := unix.Pipe2(pong[:], unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	theirs := []*os.File{os.NewFile(uintptr(ping[0]), "ping"), os.NewFile(uintptr(pong[1]), "pong")}
	p := bpftest.StartFiles(b, cg, theirs, "pong", "-cpu", "0")
	for _, f := range theirs {
		f.Close()
	}
	defer func() {
		unix.Close(ping[1])
		unix.Close(pong[0])
		p.Wait(b)
	}()

	ops := func(b *testing.B, n int) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var old, cpu0 unix.CPUSet
		if err := unix.SchedGetaffinity(0, &old); err != nil {
			b.Fatal(err)
		}
		cpu0.Set(0)
		if err := unix.SchedSetaffinity(0, &cpu0); err != nil {
			b.Fatal(err)
		}
		defer unix.SchedSetaffinity(0, &old)
		var x [1]byte
		for range n {
			if _, err := unix.Write(ping[1], x[:]); err != nil {
				b.Fatal(err)
			}
			if _, err := unix.Read(pong[0], x[:]); err != nil {
				b.Fatal(err)
			}
		}
	}
	attach := func() (io.Closer, error) { return cpu.Open() }
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
		bpftest.Alternate(b, 1024, attach, func(n int) { ops(b, n) })
	})
}
