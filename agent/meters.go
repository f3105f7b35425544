package agent

import (
	"errors"
	"fmt"
	"log/slog"
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
		MemSoftLimit:     u.MemSoftLimitBytes,
		MemUnevictable:   u.MemUnevictableBytes,
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
