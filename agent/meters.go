package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/mem"
	bpfnet "github.com/cairnhq/cairn/bpf/net"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// The values of --usage_source.
const (
	UsageSourceAuto    = "auto"    // eBPF when the meters load, else cgroup counters (with a warning)
	UsageSourceEBPF    = "ebpf"    // eBPF meters or refuse to start
	UsageSourceCgroups = "cgroups" // cgroup counters only
)

// Usage sampling: one round a second, 15 minutes of samples per container,
// and the samples of a container that ended kept as long again.
const (
	usageInterval  = time.Second
	usageRetention = 15 * time.Minute
)

// meters are the three eBPF meters, attached once per agent process.
type meters struct {
	cpu *cpu.Meter
	net *bpfnet.Meter
	mem *mem.Meter
}

// openMeters mounts bpffs and tracefs when missing and attaches the CPU,
// network and memory meters. The network meter hangs from the root of the
// cgroup v2 hierarchy, so it sees every socket of the host. An error names
// the meter, and the kernel feature when one is missing (bpf.IsMissing).
func openMeters(log *slog.Logger) (_ *meters, err error) {
	if err := bpf.EnsureMounts(); err != nil {
		// The meters attach through BTF and need neither; tools do.
		log.Warn("mount bpffs/tracefs", "err", err)
	}
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	m := &meters{}
	defer func() {
		if err != nil {
			m.close()
		}
	}()
	if m.cpu, err = cpu.Open(); err != nil {
		return nil, err
	}
	if m.net, err = bpfnet.Open(root); err != nil {
		return nil, err
	}
	if m.mem, err = mem.Open(); err != nil {
		return nil, err
	}
	return m, nil
}

// cgroup2Root finds the cgroup v2 hierarchy at its usual places first:
// bpf.UnifiedRoot reads /proc/self/mountinfo, which follows the main thread,
// and a test process that ran libcontainer may have left that thread in a
// container's mount namespace.
func cgroup2Root() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if ok, err := bpf.Mounted("cgroup2", p); err == nil && ok {
			return p, nil
		}
	}
	root, err := bpf.UnifiedRoot()
	if err != nil {
		return "", fmt.Errorf("attach net meter: %w", err)
	}
	return root, nil
}

// forget drops a cgroup that is gone from every meter.
func (m *meters) forget(cgroupID uint64) error {
	return errors.Join(m.cpu.Forget(cgroupID), m.net.Forget(cgroupID), m.mem.Forget(cgroupID))
}

// losses sums what the meters could not count for want of table space
// (cgroups beyond 16384) or ring buffer space (OOM events).
func (m *meters) losses() uint64 {
	c, _ := m.cpu.Lost()
	n, _ := m.net.Lost()
	ev, pk, _ := m.mem.Lost()
	return c + n + ev + pk
}

// close detaches whatever is attached; idempotent.
func (m *meters) close() error {
	var errs []error
	if m.cpu != nil {
		errs = append(errs, m.cpu.Close())
	}
	if m.net != nil {
		errs = append(errs, m.net.Close())
	}
	if m.mem != nil {
		errs = append(errs, m.mem.Close())
	}
	return errors.Join(errs...)
}

func (m *meters) sources(c usage.CgroupSource) usage.Sources {
	return usage.Sources{Cgroups: c, CPU: m.cpu, Net: m.net, Peak: m.mem}
}

// cgroupCounters reads a container's cgroup counters through the
// containerizer: its lean Counters when it has one (containerizer.Linux,
// which reads 9 cgroup files where Usage reads ~40), else Usage.
type cgroupCounters struct{ ctr Containerizer }

// leanCounters is the containerizer that can read just what sampling needs.
type leanCounters interface {
	Counters(id ids.ContainerID) (containerizer.Usage, error)
}

func (c cgroupCounters) Counters(id ids.ContainerID) (usage.Counters, error) {
	read := c.ctr.Usage
	if l, ok := c.ctr.(leanCounters); ok {
		read = l.Counters
	}
	u, err := read(id)
	if err != nil {
		return usage.Counters{}, err
	}
	return countersOf(u), nil
}

func countersOf(u containerizer.Usage) usage.Counters {
	return usage.Counters{
		CPUUserSecs:      u.CPUUserSeconds,
		CPUSystemSecs:    u.CPUSystemSeconds,
		CPUTotal:         time.Duration(u.CPUUsageNanos),
		CPUPeriods:       u.CPUPeriods,
		CPUThrottled:     u.CPUThrottled,
		CPUThrottledSecs: u.CPUThrottledSeconds,
		MemTotal:         u.MemTotalBytes,
		MemLimit:         u.MemLimitBytes,
		MemRSS:           u.MemRSSBytes,
		MemFile:          u.MemFileBytes,
		MemMappedFile:    u.MemMappedFileBytes,
		MemSwap:          u.MemSwapBytes,
		OOMKills:         u.OOMKills,
		Processes:        u.Processes,
		Threads:          u.Threads,
	}
}

// cgroupPather is the containerizer that can tell where a container's
// cgroups are (containerizer.Linux; the fake has none).
type cgroupPather interface {
	CgroupPaths(id ids.ContainerID) (map[string]string, error)
}

// cgroupID returns the cgroup v2 id of a container: the inode of its v2
// cgroup (on hybrid hosts the one libcontainer adds in the unified
// hierarchy). ok is false when the containerizer has no such cgroup to
// offer; err when it has one that could not be read (the container is
// being created or destroyed).
func cgroupID(ctr Containerizer, id ids.ContainerID) (cg uint64, ok bool, err error) {
	var dir string
	switch c := ctr.(type) {
	case unifiedCgrouper:
		if dir, err = c.UnifiedCgroup(id); err != nil {
			return 0, true, err
		}
	case cgroupPather:
		paths, err := c.CgroupPaths(id)
		if err != nil {
			return 0, true, err
		}
		dir = paths[""]
	}
	if dir == "" {
		return 0, false, nil
	}
	cg, err = bpf.CgroupID(dir)
	return cg, true, err
}

// unifiedCgrouper is the containerizer that can name a container's cgroup
// v2 directory safely while it may be destroyed (containerizer.Linux).
type unifiedCgrouper interface {
	UnifiedCgroup(id ids.ContainerID) (string, error)
}

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

// close detaches the meters and waits for the OOM reader; idempotent.
func (u *usageMonitor) close() {
	if u == nil || u.meters == nil {
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
