package agent

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

type failingWatcher struct {
	err   error
	calls map[ids.ContainerID]int
}

func (f *failingWatcher) WatchMemoryPressure(id ids.ContainerID) (*containerizer.MemoryPressure, error) {
	f.calls[id]++
	return nil, f.err
}

// TestPressureWatchesGiveUp: a host without pressure levels is asked once
// per container, a cgroup that refuses listeners maxPressureTries times, and
// neither container gets pressure counters; forget lets a container be
// tried afresh.
func TestPressureWatchesGiveUp(t *testing.T) {
	for _, tc := range []struct {
		err   error
		tries int
	}{{errors.ErrUnsupported, 1}, {errors.New("no memory cgroup"), maxPressureTries}} {
		f := &failingWatcher{err: tc.err, calls: map[ids.ContainerID]int{}}
		p := &pressureWatches{ctr: f, log: slog.New(slog.DiscardHandler),
			watches: map[ids.ContainerID]*containerizer.MemoryPressure{}, failures: map[ids.ContainerID]int{}}
		for range 2 * maxPressureTries {
			if _, ok := p.Pressure("c1"); ok {
				t.Fatalf("%v: pressure counted without a watch", tc.err)
			}
		}
		if f.calls["c1"] != tc.tries {
			t.Errorf("%v: %d registrations, want %d", tc.err, f.calls["c1"], tc.tries)
		}
		p.forget("c1")
		p.Pressure("c1")
		if f.calls["c1"] != tc.tries+1 {
			t.Errorf("%v: a forgotten container was not tried again", tc.err)
		}
		p.close()
	}
}
