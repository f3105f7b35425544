package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
)

// netbwResource is the scalar resource tasks request bandwidth with, in
// Mbit/s.
const netbwResource = "network_bandwidth"

// bandwidthShaper is what the agent needs from the kernel side of
// bandwidth isolation: *netbw.Isolator, a fake in tests.
type bandwidthShaper interface {
	SetFramework(fw ids.FrameworkID, rateMbps float64) error
	RemoveFramework(fw ids.FrameworkID) error
	AddCgroup(cgroup uint64, fw ids.FrameworkID) error
	RemoveCgroup(cgroup uint64) error
	Reconcile(want map[ids.FrameworkID]netbw.Share) error
	Stats() ([]netbw.ClassStats, error)
	Release() error
	Close() error
}

// bandwidth is the agent's record of who is shaped how: the requests of the
// live tasks, the cgroups of their started containers, and what was last
// applied to the shaper. Every change recomputes its framework's share from
// the record and applies the difference, under one mutex, so callers on
// the loop and in launch goroutines never apply a stale sum. A nil
// *bandwidth (isolation off) does nothing.
//
// A framework's rate is the sum of the requests of its tasks whose
// container has started; a container's cgroup is in the classifier's map
// while one of its live tasks requests bandwidth. Order per change: stale
// cgroups out, then the rate (a new class before its cgroups), then new
// cgroups in, so no packet is ever classified into a class that is gone.
type bandwidth struct {
	shaper    bandwidthShaper
	net       taskNetworker // tasks with their own namespace; nil: none
	log       *slog.Logger
	closeOnce sync.Once // Agent.closeBandwidth

	mu         sync.Mutex
	tasks      map[bwTask]float64                // live tasks with a request > 0
	containers map[ids.ContainerID]bwContainer   // started containers
	added      map[ids.ContainerID]bwContainer   // cgroups in the shaper's map
	rates      map[ids.FrameworkID]float64       // classes in the shaper
	nets       map[ids.ContainerID]netbw.TaskNet // containers with their own namespace
}

type bwTask struct {
	fw        ids.FrameworkID
	container ids.ContainerID
	task      ids.TaskID
}

type bwContainer struct {
	fw     ids.FrameworkID
	cgroup uint64
}

func newBandwidth(s bandwidthShaper, n taskNetworker, log *slog.Logger) *bandwidth {
	return &bandwidth{
		shaper: s, net: n, log: log,
		nets:       map[ids.ContainerID]netbw.TaskNet{},
		tasks:      map[bwTask]float64{},
		containers: map[ids.ContainerID]bwContainer{},
		added:      map[ids.ContainerID]bwContainer{},
		rates:      map[ids.FrameworkID]float64{},
	}
}

// addTask records a live task's request (Mbit/s); a request of 0 is not
// recorded. It takes effect once the task's container has started.
func (b *bandwidth) addTask(fw ids.FrameworkID, c ids.ContainerID, t ids.TaskID, mbps float64) error {
	if b == nil || mbps <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tasks[bwTask{fw, c, t}] = mbps
	return b.sync(fw)
}

// restore records a recovered task and its running container without
// applying anything: reconcile applies the whole record at once.
func (b *bandwidth) restore(fw ids.FrameworkID, c ids.ContainerID, cgroup uint64, t ids.TaskID, mbps float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.containers[c] = bwContainer{fw, cgroup}
	if mbps > 0 {
		b.tasks[bwTask{fw, c, t}] = mbps
	}
}

// started records that a container exists, with its cgroup v2 id: its
// tasks' requests now count and its cgroup is classified.
func (b *bandwidth) started(fw ids.FrameworkID, c ids.ContainerID, cgroup uint64) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.containers[c] = bwContainer{fw, cgroup}
	return b.sync(fw)
}

// endTask forgets a task that reached a terminal state.
func (b *bandwidth) endTask(fw ids.FrameworkID, c ids.ContainerID, t ids.TaskID) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := bwTask{fw, c, t}
	if _, ok := b.tasks[k]; !ok {
		return nil
	}
	delete(b.tasks, k)
	return b.sync(fw)
}

// endContainer forgets a container and its tasks (it was destroyed), and
// removes its network namespace when it had one.
func (b *bandwidth) endContainer(c ids.ContainerID) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	netErr := b.detachNet(c)
	fw, ok := b.containers[c]
	if !ok {
		return netErr
	}
	delete(b.containers, c)
	for k := range b.tasks {
		if k.container == c {
			delete(b.tasks, k)
		}
	}
	return errors.Join(netErr, b.sync(fw.fw))
}

// removeFramework forgets the framework and removes its class.
func (b *bandwidth) removeFramework(fw ids.FrameworkID) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.tasks {
		if k.fw == fw {
			delete(b.tasks, k)
		}
	}
	for c, v := range b.containers {
		if v.fw == fw {
			delete(b.containers, c)
		}
	}
	return b.sync(fw)
}

// sync applies the framework's share as the record now says; b.mu held.
func (b *bandwidth) sync(fw ids.FrameworkID) error {
	sum, want := b.share(fw)
	var errs []error
	for c, v := range b.added {
		if v.fw == fw && want[c] != v {
			if err := b.shaper.RemoveCgroup(v.cgroup); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(b.added, c)
		}
	}
	if sum <= 0 {
		if _, ok := b.rates[fw]; ok {
			if err := b.shaper.RemoveFramework(fw); err != nil {
				errs = append(errs, err)
			} else {
				delete(b.rates, fw)
				b.log.Info("bandwidth class removed", "framework_id", fw)
			}
		}
		return b.logged(fw, errs)
	}
	if r, ok := b.rates[fw]; !ok || r != sum {
		if err := b.shaper.SetFramework(fw, sum); err != nil {
			return b.logged(fw, append(errs, err))
		}
		b.rates[fw] = sum
		b.log.Info("bandwidth class set", "framework_id", fw, "rate_mbps", sum)
	}
	for c, v := range want {
		if b.added[c] == v {
			continue
		}
		if err := b.shaper.AddCgroup(v.cgroup, fw); err != nil {
			errs = append(errs, err)
			continue
		}
		b.added[c] = v
	}
	return b.logged(fw, errs)
}

// share is what the record says the framework should have: its rate and
// the cgroups to classify (started containers with a live request).
func (b *bandwidth) share(fw ids.FrameworkID) (float64, map[ids.ContainerID]bwContainer) {
	var sum float64
	want := map[ids.ContainerID]bwContainer{}
	for k, mbps := range b.tasks {
		c, ok := b.containers[k.container]
		if k.fw != fw || !ok {
			continue
		}
		sum += mbps
		if c.cgroup != 0 {
			want[k.container] = c
		}
	}
	return sum, want
}

func (b *bandwidth) logged(fw ids.FrameworkID, errs []error) error {
	err := errors.Join(errs...)
	if err != nil {
		b.log.Warn("apply bandwidth share", "framework_id", fw, "err", err)
	}
	return err
}

// reconcile makes the shaper exactly the record (after recovery: what the
// agent recovered), in place.
func (b *bandwidth) reconcile() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	want := map[ids.FrameworkID]netbw.Share{}
	fws := map[ids.FrameworkID]bool{}
	for k := range b.tasks {
		fws[k.fw] = true
	}
	clear(b.added)
	clear(b.rates)
	for fw := range fws {
		sum, cgs := b.share(fw)
		if sum <= 0 {
			continue
		}
		s := netbw.Share{RateMbps: sum}
		for c, v := range cgs {
			s.Cgroups = append(s.Cgroups, v.cgroup)
			b.added[c] = v
		}
		slices.Sort(s.Cgroups)
		want[fw] = s
		b.rates[fw] = sum
	}
	if err := b.shaper.Reconcile(want); err != nil {
		return fmt.Errorf("reconcile bandwidth classes: %w", err)
	}
	b.log.Info("bandwidth classes reconciled", "frameworks", len(want))
	return nil
}

// containerLimit is the sum of the live requests of a container's tasks,
// in Mbit/s (0: none); its framework is what shapes it.
func (b *bandwidth) containerLimit(c ids.ContainerID) (ids.FrameworkID, float64) {
	if b == nil {
		return "", 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var fw ids.FrameworkID
	var sum float64
	for k, mbps := range b.tasks {
		if k.container == c {
			fw, sum = k.fw, sum+mbps
		}
	}
	return fw, sum
}

// frameworks returns the frameworks with a class, sorted.
func (b *bandwidth) frameworks() []ids.FrameworkID {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.rates))
}
