package usage

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/net"
	"github.com/cairnhq/cairn/ids"
)

// fakeSources stands in for the cgroup counters and the three meters; tests
// set the figures directly.
type fakeSources struct {
	counters map[ids.ContainerID]Counters
	cpu      map[uint64]cpu.Stats
	net      map[uint64]net.Stats
	peak     map[uint64]uint64
	cpuErr   error
}

func newFakeSources() *fakeSources {
	return &fakeSources{counters: map[ids.ContainerID]Counters{}, cpu: map[uint64]cpu.Stats{}, net: map[uint64]net.Stats{}, peak: map[uint64]uint64{}}
}

var errGone = errors.New("container not found")

func (f *fakeSources) Counters(id ids.ContainerID) (Counters, error) {
	c, ok := f.counters[id]
	if !ok {
		return Counters{}, fmt.Errorf("usage of container %s: %w", id, errGone)
	}
	return c, nil
}

type fakeCPU struct{ *fakeSources }
type fakeNet struct{ *fakeSources }

func (f fakeCPU) ReadAll() (map[uint64]cpu.Stats, error)   { return copyMap(f.cpu), f.cpuErr }
func (f fakeNet) ReadAll() (map[uint64]net.Stats, error)   { return copyMap(f.net), nil }
func (f *fakeSources) PeakAll() (map[uint64]uint64, error) { return copyMap(f.peak), nil }

func (f *fakeSources) sources() Sources {
	return Sources{Cgroups: f, CPU: fakeCPU{f}, Net: fakeNet{f}, Peak: f}
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var t0 = time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func target(id string, cgroup uint64) Target {
	return Target{Container: ids.ContainerID(id), CgroupID: cgroup, CPUsLimit: 1.1,
		Labels: Labels{FrameworkID: "fw1", ExecutorID: ids.ExecutorID("e-" + id), TaskID: ids.TaskID("t-" + id)}}
}
