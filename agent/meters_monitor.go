package agent

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/ids"
)

// usageMonitor is the agent's shell around usage.Store: it owns the meters,
// runs the sampling rounds and the OOM event reader, and guards the store
// for the HTTP handlers.
type usageMonitor struct {
	log    *slog.Logger
	ctr    Containerizer
	source string // UsageSourceEBPF or UsageSourceCgroups: what is measured with
	meters *meters
	src    usage.Sources
	oomWG  sync.WaitGroup
	// pressure and disk feed the memory pressure counters and the
	// sandbox sizes (nil before startMemDisk, and pressure on a
	// containerizer that cannot count pressure).
	pressure *pressureWatches
	disk     *diskWatch

	// cgroups caches resolved cgroup ids (0: none); sampler goroutine only.
	cgroups map[ids.ContainerID]uint64
	lastErr string // the last meter error logged; sampler goroutine only
	rounds  uint64 // sampling rounds so far; sampler goroutine only
	lost    uint64 // meter losses last seen; sampler goroutine only

	mu        sync.Mutex
	store     *usage.Store
	published publishedUsage
	// gen counts changes to the store's samples; statsBody is the
	// /monitor/statistics body encoded at generation statsGen. The body
	// changes once a round, so it is encoded once a round, not per request.
	gen       uint64
	statsBody []byte
	statsGen  uint64
	// strays are OOM kills in cgroups no sampled container had yet (a task
	// killed within its first second): cgroup id → peak RSS, for
	// oomMessage. Bounded by maxStrays.
	strays map[uint64]uint64
}

const maxStrays = 256

// attachMeters is openMeters; tests replace it to play a kernel without a
// program type.
var attachMeters = openMeters

// openUsage decides the usage source from --usage_source and attaches the
// meters when it is eBPF. With "auto", meters that do not load leave the
// agent on cgroup counters, with a warning naming what the kernel lacks;
// with "ebpf" that is a start-up error. An injected containerizer (tests)
// has no cgroups to key meters by, so "auto" means cgroup counters there.
func openUsage(mode string, ctr Containerizer, injected bool, log *slog.Logger) (*usageMonitor, error) {
	u := &usageMonitor{
		log: log, ctr: ctr, source: UsageSourceCgroups,
		src:     usage.Sources{Cgroups: cgroupCounters{ctr}},
		cgroups: map[ids.ContainerID]uint64{},
		store:   usage.NewStore(usage.DefaultCapacity),
		strays:  map[uint64]uint64{},
	}
	if mode == UsageSourceCgroups || (mode == UsageSourceAuto && injected) {
		log.Info("measuring usage with cgroup counters", "usage_source", u.source)
		return u, nil
	}
	m, err := attachMeters(log)
	if err != nil {
		feature, missing := bpf.IsMissing(err)
		if mode == UsageSourceEBPF {
			return nil, fmt.Errorf("attach eBPF meters (--usage_source=ebpf): %w", err)
		}
		log.Warn("eBPF meters unavailable; measuring usage with cgroup counters only (no on-CPU time, run-queue delay, per-task network or peak RSS from eBPF)",
			"usage_source", u.source, "missing_feature", string(feature), "kernel_lacks_feature", missing, "err", err)
		return u, nil
	}
	u.meters, u.source = m, UsageSourceEBPF
	u.src = m.sources(cgroupCounters{ctr})
	u.oomWG.Add(1)
	go u.readOOMs()
	log.Info("eBPF meters attached", "usage_source", u.source)
	return u, nil
}

// close closes the pressure listeners, detaches the meters and waits for
// the OOM reader; idempotent.
func (u *usageMonitor) close() {
	if u == nil {
		return
	}
	if u.pressure != nil {
		u.pressure.close()
	}
	if u.meters == nil {
		return
	}
	if err := u.meters.close(); err != nil {
		u.log.Warn("detach eBPF meters", "err", err)
	}
	u.oomWG.Wait()
}

// readOOMs records the OOM kills the memory meter reports, until it closes.
func (u *usageMonitor) readOOMs() {
	defer u.oomWG.Done()
	for ev := range u.meters.mem.Events() {
		u.mu.Lock()
		id, ok := u.store.OOM(ev.CgroupID, ev.PeakRSS)
		u.gen++
		if !ok {
			if len(u.strays) >= maxStrays {
				clear(u.strays) // old ones: their tasks have long been reported
			}
			u.strays[ev.CgroupID] = max(u.strays[ev.CgroupID], ev.PeakRSS)
		}
		u.mu.Unlock()
		if ok {
			u.log.Info("OOM kill", "container_id", string(id), "pid", ev.PID, "comm", ev.Comm, "rss_bytes", ev.RSS, "peak_rss_bytes", ev.PeakRSS)
		} else {
			u.log.Debug("OOM kill outside the agent's containers", "cgroup_id", ev.CgroupID, "pid", ev.PID, "comm", ev.Comm)
		}
	}
}
