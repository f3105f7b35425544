package containerizer

import (
	"fmt"

	"github.com/opencontainers/cgroups"

	"github.com/cairnhq/cairn/ids"
)

// Usage reads the container's resource usage from its cgroups (v1 or v2).
// It works while the container runs and after its init has exited, until
// Destroy; ErrNotFound otherwise. It reads a few dozen cgroup files.
func (l *Linux) Usage(id ids.ContainerID) (Usage, error) {
	_, cm, err := l.attach(id)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of container %s: %w", id, err)
	}
	st, err := cm.GetStats()
	if err != nil {
		return Usage{}, fmt.Errorf("usage of container %s: %w", id, err)
	}
	oom, err := cm.OOMKillCount()
	if err != nil {
		return Usage{}, fmt.Errorf("usage of container %s: oom kills: %w", id, err)
	}
	pids, err := cm.GetAllPids()
	if err != nil {
		return Usage{}, fmt.Errorf("usage of container %s: processes: %w", id, err)
	}
	u := usageFromStats(st, l.host.mode == modeUnified)
	u.OOMKills = oom
	u.Processes = uint64(len(pids))
	return u, nil
}

// unlimited is the smallest value treated as "no memory limit": v1 reports
// about 2^63 rounded to pages, v2 "max" (read as 2^64-1).
const unlimited = 1 << 62

// usageFromStats converts libcontainer's cgroup statistics. The memory.stat
// keys differ: v1 has hierarchical total_* counters, v2 is always
// hierarchical and names them differently.
func usageFromStats(st *cgroups.Stats, v2 bool) Usage {
	cpu, mem := st.CpuStats, st.MemoryStats
	u := Usage{
		CPUUserSeconds:      float64(cpu.CpuUsage.UsageInUsermode) / 1e9,
		CPUSystemSeconds:    float64(cpu.CpuUsage.UsageInKernelmode) / 1e9,
		CPUUsageNanos:       cpu.CpuUsage.TotalUsage,
		CPUPeriods:          cpu.ThrottlingData.Periods,
		CPUThrottled:        cpu.ThrottlingData.ThrottledPeriods,
		CPUThrottledSeconds: float64(cpu.ThrottlingData.ThrottledTime) / 1e9,
		MemTotalBytes:       mem.Usage.Usage,
		MemMaxUsageBytes:    mem.Usage.MaxUsage,
		Threads:             st.PidsStats.Current,
	}
	if mem.Usage.Limit < unlimited {
		u.MemLimitBytes = mem.Usage.Limit
	}
	if v2 {
		u.MemRSSBytes = mem.Stats["anon"]
		u.MemFileBytes = mem.Stats["file"]
		u.MemMappedFileBytes = mem.Stats["file_mapped"]
		u.MemSwapBytes = mem.SwapOnlyUsage.Usage
	} else {
		u.MemRSSBytes = mem.Stats["total_rss"]
		u.MemFileBytes = mem.Stats["total_cache"]
		u.MemMappedFileBytes = mem.Stats["total_mapped_file"]
		u.MemSwapBytes = mem.Stats["total_swap"]
	}
	return u
}
