package agent

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// pressureWatcher is the containerizer that can count memory pressure
// events (containerizer.Linux).
type pressureWatcher interface {
	WatchMemoryPressure(id ids.ContainerID) (*containerizer.MemoryPressure, error)
}

// pressureWatches counts each sampled container's memory pressure events
// (usage.PressureSource): listeners are registered the first time a
// container is sampled and closed when the store says it ended (forget).
// Reads do not block: each drains the eventfds the kernel added to.
type pressureWatches struct {
	ctr pressureWatcher
	log *slog.Logger

	mu sync.Mutex
	// watches holds nil for a container whose events cannot be counted
	// (cgroup v2 has no memory.pressure_level): it is not tried again.
	watches map[ids.ContainerID]*containerizer.MemoryPressure
	// failures counts failed registrations of containers not watched yet:
	// after maxPressureTries a container is given up on (nil watch).
	failures map[ids.ContainerID]int
}

// maxPressureTries bounds the rounds spent registering listeners on a
// container whose cgroup refuses them.
const maxPressureTries = 5

// newPressureWatches returns nil when the containerizer cannot count
// pressure events (the fake in tests).
func newPressureWatches(ctr Containerizer, log *slog.Logger) *pressureWatches {
	w, ok := ctr.(pressureWatcher)
	if !ok {
		return nil
	}
	return &pressureWatches{ctr: w, log: log, watches: map[ids.ContainerID]*containerizer.MemoryPressure{},
		failures: map[ids.ContainerID]int{}}
}

// Pressure implements usage.PressureSource.
func (p *pressureWatches) Pressure(id ids.ContainerID) (usage.Pressure, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.watches[id]
	if !ok {
		var err error
		w, err = p.ctr.WatchMemoryPressure(id)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			p.watches[id] = nil
		case err != nil:
			// The cgroup is being made or removed: next round, a few times.
			p.log.Debug("watch memory pressure", "container_id", string(id), "err", err)
			if p.failures[id]++; p.failures[id] >= maxPressureTries {
				delete(p.failures, id)
				p.watches[id] = nil
			}
			return usage.Pressure{}, false
		default:
			delete(p.failures, id)
			p.watches[id] = w
		}
	}
	if w == nil {
		return usage.Pressure{}, false
	}
	low, medium, critical := w.Read()
	return usage.Pressure{Low: low, Medium: medium, Critical: critical}, true
}

// forget closes the listeners of a container that ended.
func (p *pressureWatches) forget(id ids.ContainerID) {
	p.mu.Lock()
	w := p.watches[id]
	delete(p.watches, id)
	delete(p.failures, id)
	p.mu.Unlock()
	if w != nil {
		w.Close()
	}
}

// close closes every listener.
func (p *pressureWatches) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, w := range p.watches {
		if w != nil {
			w.Close()
		}
		delete(p.watches, id)
	}
}
