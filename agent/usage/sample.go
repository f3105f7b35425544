package usage

import (
	"time"

	"github.com/cairnhq/cairn/ids"
)

// Counters are a container's cgroup counters, as the containerizer reads
// them (cpu, cpuacct, memory and pids cgroups; v1 or v2). Zero means unknown
// or none.
type Counters struct {
	CPUUserSecs, CPUSystemSecs float64
	CPUTotal                   time.Duration // cpuacct.usage / cpu.stat usage_usec: exact, unlike the user/system split
	CPUPeriods, CPUThrottled   uint64        // CFS periods elapsed, and throttled
	CPUThrottledSecs           float64

	MemTotal, MemLimit uint64 // bytes charged to the memory cgroup, and its limit
	MemRSS             uint64 // anonymous memory (Mesos's mem_rss_bytes, mem_anon_bytes)
	MemFile            uint64 // page cache (mem_file_bytes, mem_cache_bytes)
	MemMappedFile      uint64
	MemSwap            uint64
	MemSoftLimit       uint64 // memory.soft_limit_in_bytes (v1) or memory.low (v2)
	MemUnevictable     uint64
	OOMKills           uint64 // the memory cgroup's count of OOM kills
	Processes, Threads uint64

	// Filled by Read from the other sources (memdisk.go), not the cgroup
	// counters.

	// Pressure counts memory pressure events since the container was first
	// watched; HasPressure is false where they are not counted (cgroup v2).
	Pressure    Pressure
	HasPressure bool
	// DiskLimit is the container's disk resource in bytes (0: none), and
	// DiskUsed the size of its sandbox when last measured (HasDiskUsed).
	DiskLimit, DiskUsed uint64
	HasDiskUsed         bool
}

// Labels name what runs in a container, for readers of the samples.
type Labels struct {
	FrameworkID  ids.FrameworkID
	ExecutorID   ids.ExecutorID
	ExecutorName string
	// TaskID is the container's task: the only one of a command executor,
	// the first of a custom executor ("" before it has one).
	TaskID ids.TaskID
}

// Target is a running container the agent wants sampled.
type Target struct {
	Container ids.ContainerID
	// CgroupID is the container's cgroup v2 id, the key of the eBPF
	// meters; 0 when unknown (the container then has no eBPF figures).
	CgroupID  uint64
	CPUsLimit float64
	// DiskLimit is the container's disk resource in bytes (0: none); Sandbox
	// its sandbox directory on the host, whose size is disk_used_bytes.
	DiskLimit uint64
	Sandbox   string
	Labels
}

// Sample is one container's usage at one instant. Cumulative fields count
// since the container started (cgroup counters) or since the agent's meters
// were attached (eBPF counters, see Store.Apply for how a recovered
// container's CPU time is carried over).
type Sample struct {
	Time time.Time
	Counters
	CPUsLimit float64

	// EBPF reports that the eBPF CPU meter measured this container; the
	// fields below up to Net are zero otherwise.
	EBPF                  bool
	OnCPU                 time.Duration // time the container's tasks ran on a CPU
	Switches, Involuntary uint64        // context switches away, and the preemptions among them
	RunQueueTotal         time.Duration // time runnable tasks waited for a CPU
	// RunQueueP50 and RunQueueP99 are quantiles of the waits since the
	// previous sample (since the meters were attached, for the first).
	RunQueueP50, RunQueueP99 time.Duration

	// Net reports that the eBPF network meter measured this container.
	Net                      bool
	NetRxBytes, NetRxPackets uint64
	NetTxBytes, NetTxPackets uint64

	// Shaped reports that bandwidth isolation shapes the container; Shaping
	// says how.
	Shaped  bool
	Shaping Shaping

	// RSSPeak is the largest resident memory known: the eBPF peak of the
	// container's largest process, or the largest MemRSS sampled.
	RSSPeak uint64
	// OOMKills is the larger of the memory cgroup's count and the OOM kills
	// the eBPF meter reported for the container.
	OOMKills uint64
}

// cpuSeconds is the container's CPU time by the best source there is.
func (s *Sample) cpuSeconds() float64 {
	if s.EBPF {
		return s.OnCPU.Seconds()
	}
	if s.CPUTotal > 0 {
		return s.CPUTotal.Seconds()
	}
	return s.CPUUserSecs + s.CPUSystemSecs
}

// Rates are a container's (or a sum of containers') usage per second over
// the interval between two samples.
type Rates struct {
	CPUs      float64 // CPU seconds per second
	MemBytes  uint64  // mem_total_bytes of the latest sample (a level, not a rate)
	RxBps     float64 // bytes per second received
	TxBps     float64 // bytes per second sent
	HaveRates bool    // false when there were fewer than two samples
}

// rates derives the rates between prev and cur, two samples of one
// container. A counter that went backwards (the meters were reattached)
// counts from zero.
func rates(prev, cur *Sample) Rates {
	r := Rates{MemBytes: cur.MemTotal}
	dt := cur.Time.Sub(prev.Time).Seconds()
	if prev == cur || dt <= 0 {
		return r
	}
	r.HaveRates = true
	r.CPUs = max(0, cur.cpuSeconds()-prev.cpuSeconds()) / dt
	r.RxBps = float64(delta(cur.NetRxBytes, prev.NetRxBytes)) / dt
	r.TxBps = float64(delta(cur.NetTxBytes, prev.NetTxBytes)) / dt
	return r
}

func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}
