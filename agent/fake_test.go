package agent

import (
	"context"
	"sync"
	"syscall"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// fakeContainerizer runs nothing: a test decides when a container exits
// and how, and what its usage says. Destroy ends a running container as
// SIGKILL would.
type fakeContainerizer struct {
	mu        sync.Mutex
	running   map[ids.ContainerID]chan containerizer.Exit
	specs     map[ids.ContainerID]containerizer.Spec
	oomKills  map[ids.ContainerID]uint64
	destroyed map[ids.ContainerID]int
	leftovers []ids.ContainerID
	launchErr error
	launched  chan containerizer.Spec
}

func newFakeContainerizer() *fakeContainerizer {
	return &fakeContainerizer{
		running:   map[ids.ContainerID]chan containerizer.Exit{},
		specs:     map[ids.ContainerID]containerizer.Spec{},
		oomKills:  map[ids.ContainerID]uint64{},
		destroyed: map[ids.ContainerID]int{},
		launched:  make(chan containerizer.Spec, 16),
	}
}

func (f *fakeContainerizer) Launch(ctx context.Context, s containerizer.Spec) (int, error) {
	f.mu.Lock()
	if f.launchErr != nil {
		f.mu.Unlock()
		return 0, f.launchErr
	}
	f.running[s.ID] = make(chan containerizer.Exit, 1)
	f.specs[s.ID] = s
	f.mu.Unlock()
	f.launched <- s
	return 4242, nil
}

func (f *fakeContainerizer) Wait(ctx context.Context, id ids.ContainerID) (containerizer.Exit, error) {
	f.mu.Lock()
	ch := f.running[id]
	f.mu.Unlock()
	if ch == nil {
		return containerizer.Exit{}, containerizer.ErrNotFound
	}
	select {
	case x := <-ch:
		ch <- x // later Waits see the same exit
		return x, nil
	case <-ctx.Done():
		return containerizer.Exit{}, ctx.Err()
	}
}

// exit ends a container the way the test says.
func (f *fakeContainerizer) exit(id ids.ContainerID, x containerizer.Exit) {
	f.mu.Lock()
	ch := f.running[id]
	f.mu.Unlock()
	select {
	case ch <- x:
	default:
	}
}

func (f *fakeContainerizer) Destroy(ctx context.Context, id ids.ContainerID) error {
	f.mu.Lock()
	f.destroyed[id]++
	ch := f.running[id]
	f.mu.Unlock()
	if ch != nil {
		select {
		case ch <- containerizer.Exit{Code: 137, Signal: syscall.SIGKILL}:
		default:
		}
	}
	return nil
}

func (f *fakeContainerizer) Usage(id ids.ContainerID) (containerizer.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[id] == nil {
		return containerizer.Usage{}, containerizer.ErrNotFound
	}
	return containerizer.Usage{OOMKills: f.oomKills[id]}, nil
}

func (f *fakeContainerizer) Containers() ([]ids.ContainerID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ids.ContainerID(nil), f.leftovers...), nil
}

func (f *fakeContainerizer) SandboxPath(host string) string { return host }

func (f *fakeContainerizer) setOOM(id ids.ContainerID, n uint64) {
	f.mu.Lock()
	f.oomKills[id] = n
	f.mu.Unlock()
}

func (f *fakeContainerizer) destroyCount(id ids.ContainerID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.destroyed[id]
}

func (f *fakeContainerizer) Recover(ctx context.Context, id ids.ContainerID) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[id] == nil {
		return 0, containerizer.ErrNotFound
	}
	return 4242, nil
}
