package agent

import (
	"log/slog"
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

// bandwidth is the agent's record of who is shaped how, and the applier
// that makes the kernel match it (netbw_apply.go). A nil *bandwidth
// (isolation off) does nothing.
//
// The record: the requests of the live tasks, the cgroups of their started
// containers, the containers with their own namespace. A framework's rate
// is the sum of the requests of its tasks whose container has started; a
// container's cgroup is classified while one of its live tasks requests
// bandwidth.
//
// Threading: the record's mutex is never held across a kernel call, so the
// agent's loop, which changes the record (addTask, endTask, endContainer,
// removeFramework), never waits for netlink: those changes are applied by
// the worker (run). A container's start is applied at once, by the launch
// goroutine that calls started, so its cgroup is classified before its
// tasks are reported running. Applying always reads the current record, so
// applies in any order end where the record is.
type bandwidth struct {
	shaper    bandwidthShaper
	net       taskNetworker // tasks with their own namespace; nil: none
	log       *slog.Logger
	closeOnce sync.Once // Agent.closeBandwidth

	mu         sync.Mutex
	tasks      map[bwTask]float64                // live tasks with a request > 0
	containers map[ids.ContainerID]bwContainer   // started containers
	nets       map[ids.ContainerID]netbw.TaskNet // containers with their own namespace
	pending    map[ids.FrameworkID]bool          // shares changed, for the worker
	detach     map[ids.ContainerID]bool          // namespaces to remove, for the worker
	wake       chan struct{}                     // capacity 1: pending or detach grew
	quit, done chan struct{}                     // the worker's (start, stop)

	// applyMu serialises applying; it guards what was applied.
	applyMu sync.Mutex
	added   map[ids.ContainerID]bwContainer // cgroups in the shaper's map
	rates   map[ids.FrameworkID]float64     // classes in the shaper
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
		tasks:      map[bwTask]float64{},
		containers: map[ids.ContainerID]bwContainer{},
		nets:       map[ids.ContainerID]netbw.TaskNet{},
		pending:    map[ids.FrameworkID]bool{},
		detach:     map[ids.ContainerID]bool{},
		wake:       make(chan struct{}, 1),
		added:      map[ids.ContainerID]bwContainer{},
		rates:      map[ids.FrameworkID]float64{},
	}
}

// later queues the framework's share for the worker; b.mu held.
func (b *bandwidth) later(fw ids.FrameworkID) {
	b.pending[fw] = true
	b.poke()
}

// poke wakes the worker without waiting.
func (b *bandwidth) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// addTask records a live task's request (Mbit/s); a request of 0 is not
// recorded. It counts once the task's container has started.
func (b *bandwidth) addTask(fw ids.FrameworkID, c ids.ContainerID, t ids.TaskID, mbps float64) {
	if b == nil || mbps <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tasks[bwTask{fw, c, t}] = mbps
	if _, ok := b.containers[c]; ok {
		b.later(fw)
	}
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

// started records that a container exists, with its cgroup v2 id, and
// applies its framework's share now: its tasks' requests count and its
// cgroup is classified when started returns.
func (b *bandwidth) started(fw ids.FrameworkID, c ids.ContainerID, cgroup uint64) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	b.containers[c] = bwContainer{fw, cgroup}
	b.mu.Unlock()
	return b.apply(fw)
}

// endTask forgets a task that reached a terminal state.
func (b *bandwidth) endTask(fw ids.FrameworkID, c ids.ContainerID, t ids.TaskID) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := bwTask{fw, c, t}
	if _, ok := b.tasks[k]; ok {
		delete(b.tasks, k)
		b.later(fw)
	}
}

// endContainer forgets a container and its tasks (it was destroyed), and
// has its network namespace removed when it had one.
func (b *bandwidth) endContainer(c ids.ContainerID) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.nets[c]; ok {
		b.detach[c] = true
		b.poke()
	}
	v, ok := b.containers[c]
	if !ok {
		return
	}
	delete(b.containers, c)
	for k := range b.tasks {
		if k.container == c {
			delete(b.tasks, k)
		}
	}
	b.later(v.fw)
}

// removeFramework forgets the framework; its class goes.
func (b *bandwidth) removeFramework(fw ids.FrameworkID) {
	if b == nil {
		return
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
	b.later(fw)
}

// share is what the record says the framework should have: its rate and
// the cgroups to classify (started containers with a live request); b.mu
// held.
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

// containerLimit is the sum of the live requests of a container's tasks,
// in Mbit/s (0: none), and its framework.
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
