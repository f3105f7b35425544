package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// BenchmarkSamplingRound measures one sampling round over 50 running
// containers (sleep) of the Linux containerizer: with the eBPF meters
// attached (one full read of each meter plus the cgroup counters of each
// container) and with cgroup counters only. One round runs per second, so
// the CPU time of a round divided by 1 s is the share of a core the sampler
// takes: core-%/s reports it (from getrusage, the whole test process),
// cpu-us/container the CPU per container and round.
func BenchmarkSamplingRound(b *testing.B) {
	requireMeters(b)
	const n = 50
	root := kerneltest.Name("cubn")
	l, err := containerizer.New(containerizer.Config{StateDir: filepath.Join(b.TempDir(), "containers"), CgroupsRoot: root, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	targets := make([]usage.Target, n)
	for i := range targets {
		id := ids.ContainerID(kerneltest.Name("cb"))
		spec := containerizer.Spec{ID: id, Sandbox: b.TempDir(), Args: []string{"/bin/sleep", "600"}, Env: []string{"PATH=/usr/bin:/bin"}}
		spec.Limits.MemoryBytes, spec.Limits.MemorySwapBytes = 64<<20, 64<<20
		if _, err := l.Launch(context.Background(), spec); err != nil {
			b.Fatalf("launch: %v", err)
		}
		targets[i] = usage.Target{Container: id, CPUsLimit: 0.1, Labels: usage.Labels{FrameworkID: "fw", ExecutorID: ids.ExecutorID("e" + strconv.Itoa(i))}}
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, t := range targets {
			if err := l.Destroy(ctx, t.Container); err != nil {
				b.Errorf("destroy: %v", err)
			}
		}
		if err := l.Close(); err != nil {
			b.Errorf("close containerizer: %v", err)
		}
	})
	log := slog.New(slog.DiscardHandler)
	for _, mode := range []string{UsageSourceEBPF, UsageSourceCgroups} {
		b.Run("source="+mode, func(b *testing.B) {
			u, err := openUsage(mode, l, false, log)
			if err != nil {
				b.Fatal(err)
			}
			defer u.close()
			u.round(time.Now(), append([]usage.Target(nil), targets...)) // resolves the cgroup ids once
			if v, ok := u.store.Get(targets[0].Container); !ok || v.Latest.EBPF != (mode == UsageSourceEBPF) {
				b.Fatalf("first round: %+v", v)
			}
			cpu0 := processCPU(b)
			for b.Loop() {
				u.round(time.Now(), append([]usage.Target(nil), targets...))
			}
			// CPU time, not wall time: on a loaded machine the rounds also
			// wait for a CPU, which costs the host nothing.
			perRound := float64((processCPU(b) - cpu0).Nanoseconds()) / float64(b.N)
			b.ReportMetric(perRound/1e9*100, "core-%/s")
			b.ReportMetric(perRound/n/1e3, "cpu-us/container")
		})
	}
}

// processCPU is the CPU time (user + system) this process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
