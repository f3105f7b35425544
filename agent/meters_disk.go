package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// diskWatch measures the sandboxes of the sampled containers, Mesos's
// disk/du: every --container_disk_watch_interval, on its own goroutine,
// since a walk of a large sandbox takes far longer than a sampling round.
// The sampler tells it which containers run (track) and reads the last
// sizes (DiskUsed, a usage.DiskSource); neither waits for a walk.
type diskWatch struct {
	log  *slog.Logger
	kick chan struct{} // a container not measured yet: measure it now

	mu      sync.Mutex
	dirs    map[ids.ContainerID]string
	used    map[ids.ContainerID]uint64
	errored map[ids.ContainerID]bool // a walk failed: logged once
}

func newDiskWatch(log *slog.Logger) *diskWatch {
	return &diskWatch{log: log, kick: make(chan struct{}, 1), dirs: map[ids.ContainerID]string{},
		used: map[ids.ContainerID]uint64{}, errored: map[ids.ContainerID]bool{}}
}

// track replaces the set of sandboxes to measure with those of targets,
// forgetting the sizes of containers no longer among them.
func (d *diskWatch) track(targets []usage.Target) {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.dirs)
	fresh := false
	for _, t := range targets {
		if t.Sandbox == "" {
			continue
		}
		d.dirs[t.Container] = t.Sandbox
		if _, ok := d.used[t.Container]; !ok && !d.errored[t.Container] {
			fresh = true
		}
	}
	for id := range d.used {
		if _, ok := d.dirs[id]; !ok {
			delete(d.used, id)
		}
	}
	for id := range d.errored {
		if _, ok := d.dirs[id]; !ok {
			delete(d.errored, id)
		}
	}
	if fresh {
		select {
		case d.kick <- struct{}{}:
		default:
		}
	}
}

// DiskUsed implements usage.DiskSource.
func (d *diskWatch) DiskUsed(id ids.ContainerID) (uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.used[id]
	return b, ok
}

// run measures every tracked sandbox each interval, and the ones not yet
// measured when track finds new ones, until ctx ends.
func (d *diskWatch) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.measure(false)
		case <-d.kick:
			d.measure(true)
		}
	}
}

// measure walks the tracked sandboxes (only those never tried when
// onlyNew) and records their sizes.
func (d *diskWatch) measure(onlyNew bool) {
	d.mu.Lock()
	todo := make(map[ids.ContainerID]string, len(d.dirs))
	for id, dir := range d.dirs {
		if _, ok := d.used[id]; !onlyNew || (!ok && !d.errored[id]) {
			todo[id] = dir
		}
	}
	d.mu.Unlock()
	for id, dir := range todo {
		b, err := sandboxSize(dir, maxDiskEntries)
		if err != nil && !errors.Is(err, errTooManyEntries) {
			// The sandbox went with its container, or cannot be read: no size.
			d.logOnce(id, "measure sandbox disk use", err)
			continue
		}
		if err != nil {
			d.logOnce(id, "sandbox has too many files to measure whole", err)
		}
		d.mu.Lock()
		if d.dirs[id] == dir { // still running
			d.used[id] = b
		}
		d.mu.Unlock()
	}
}

func (d *diskWatch) logOnce(id ids.ContainerID, msg string, err error) {
	d.mu.Lock()
	first := !d.errored[id]
	d.errored[id] = true
	d.mu.Unlock()
	if first {
		d.log.Debug(msg, "container_id", string(id), "err", err)
	}
}

// diskBytes is an executor's disk resource in bytes: the disk scalars of the
// executor and of its tasks (MB), as Mesos's disk/du takes the container's
// resources. Persistent volumes are left out: they live outside the
// sandbox.
func diskBytes(e *executor) uint64 {
	mb := diskMB(e.info.GetResources())
	for _, t := range e.core.Tasks() {
		mb += diskMB(t.Info.GetResources())
	}
	return uint64(mb * (1 << 20))
}

func diskMB(rs []*mesospb.Resource) float64 {
	var mb float64
	for _, r := range rs {
		if r.GetName() == "disk" && r.GetType() == mesospb.Value_SCALAR && r.GetDisk().GetPersistence() == nil {
			mb += r.GetScalar().GetValue()
		}
	}
	return max(mb, 0)
}

// startMemDisk adds the memory pressure counters and the sandbox sizes to
// the sampled sources and starts the disk watch, which runs until ctx ends
// or stop is called (stop waits for it). Sampler goroutine only: u.src is
// the sampler's.
func (u *usageMonitor) startMemDisk(ctx context.Context, interval time.Duration) (stop func()) {
	if u.pressure = newPressureWatches(u.ctr, u.log); u.pressure != nil {
		u.src.Pressure = u.pressure
	}
	u.disk = newDiskWatch(u.log)
	u.src.Disk = u.disk
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { u.disk.run(ctx, interval) })
	return func() { cancel(); wg.Wait() }
}
