package usage

import (
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// Statistics is a sample as the JSON object of /monitor/statistics (and of
// each sample of /monitor/history): Mesos ResourceStatistics keys, plus
// Cairn's. Figures a source did not measure are absent, not zero.
type Statistics struct {
	Timestamp float64 `json:"timestamp"`
	Processes uint64  `json:"processes"`
	Threads   uint64  `json:"threads"`

	CPUsUserTimeSecs      float64 `json:"cpus_user_time_secs"`
	CPUsSystemTimeSecs    float64 `json:"cpus_system_time_secs"`
	CPUsLimit             float64 `json:"cpus_limit"`
	CPUsNrPeriods         uint64  `json:"cpus_nr_periods"`
	CPUsNrThrottled       uint64  `json:"cpus_nr_throttled"`
	CPUsThrottledTimeSecs float64 `json:"cpus_throttled_time_secs"`

	MemTotalBytes      uint64 `json:"mem_total_bytes"`
	MemLimitBytes      uint64 `json:"mem_limit_bytes"`
	MemRSSBytes        uint64 `json:"mem_rss_bytes"`
	MemAnonBytes       uint64 `json:"mem_anon_bytes"`
	MemFileBytes       uint64 `json:"mem_file_bytes"`
	MemCacheBytes      uint64 `json:"mem_cache_bytes"`
	MemMappedFileBytes uint64 `json:"mem_mapped_file_bytes"`
	MemSwapBytes       uint64 `json:"mem_swap_bytes"`
	// Set by memDiskStatistics (memdisk.go).
	MemSoftLimitBytes          uint64  `json:"mem_soft_limit_bytes"`
	MemUnevictableBytes        uint64  `json:"mem_unevictable_bytes"`
	MemLowPressureCounter      *uint64 `json:"mem_low_pressure_counter,omitempty"`
	MemMediumPressureCounter   *uint64 `json:"mem_medium_pressure_counter,omitempty"`
	MemCriticalPressureCounter *uint64 `json:"mem_critical_pressure_counter,omitempty"`
	DiskLimitBytes             *uint64 `json:"disk_limit_bytes,omitempty"`
	DiskUsedBytes              *uint64 `json:"disk_used_bytes,omitempty"`

	NetRxBytes   *uint64 `json:"net_rx_bytes,omitempty"`
	NetRxPackets *uint64 `json:"net_rx_packets,omitempty"`
	NetTxBytes   *uint64 `json:"net_tx_bytes,omitempty"`
	NetTxPackets *uint64 `json:"net_tx_packets,omitempty"`

	// Bandwidth isolation (Sample.Shaped): limits in bytes/s, and the
	// traffic control classes the container's packets go through.
	NetTxRateLimit              *uint64                    `json:"net_tx_rate_limit,omitempty"`
	NetRxRateLimit              *uint64                    `json:"net_rx_rate_limit,omitempty"`
	NetTrafficControlStatistics []TrafficControlStatistics `json:"net_traffic_control_statistics,omitempty"`

	// Set by netSockStatistics (netsock.go): the container's own network
	// device, and its TCP sockets (rtt in µs, counts as doubles, as Mesos).
	NetRxErrors               *uint64  `json:"net_rx_errors,omitempty"`
	NetRxDropped              *uint64  `json:"net_rx_dropped,omitempty"`
	NetTxErrors               *uint64  `json:"net_tx_errors,omitempty"`
	NetTxDropped              *uint64  `json:"net_tx_dropped,omitempty"`
	NetTCPRTTMicrosecsP50     *float64 `json:"net_tcp_rtt_microsecs_p50,omitempty"`
	NetTCPRTTMicrosecsP90     *float64 `json:"net_tcp_rtt_microsecs_p90,omitempty"`
	NetTCPRTTMicrosecsP95     *float64 `json:"net_tcp_rtt_microsecs_p95,omitempty"`
	NetTCPRTTMicrosecsP99     *float64 `json:"net_tcp_rtt_microsecs_p99,omitempty"`
	NetTCPActiveConnections   *float64 `json:"net_tcp_active_connections,omitempty"`
	NetTCPTimeWaitConnections *float64 `json:"net_tcp_time_wait_connections,omitempty"`

	// Cairn's, from the eBPF CPU meter.
	CPUsOnCPUTimeSecs              *float64 `json:"cpus_oncpu_time_secs,omitempty"`
	CPUsRunqueueDelayTotalSecs     *float64 `json:"cpus_runqueue_delay_total_secs,omitempty"`
	CPUsRunqueueDelayP50Secs       *float64 `json:"cpus_runqueue_delay_p50_secs,omitempty"`
	CPUsRunqueueDelayP99Secs       *float64 `json:"cpus_runqueue_delay_p99_secs,omitempty"`
	CPUsContextSwitches            *uint64  `json:"cpus_context_switches,omitempty"`
	CPUsInvoluntaryContextSwitches *uint64  `json:"cpus_involuntary_context_switches,omitempty"`
	// Cairn's, always present.
	MemRSSPeakBytes uint64 `json:"mem_rss_peak_bytes"`
	MemOOMKills     uint64 `json:"mem_oom_kills"`
}

// TrafficControlStatistics is a TrafficClass as Mesos names its fields.
type TrafficControlStatistics struct {
	ID         string `json:"id"`
	Backlog    uint64 `json:"backlog"`
	Bytes      uint64 `json:"bytes"`
	Drops      uint64 `json:"drops"`
	Overlimits uint64 `json:"overlimits"`
	Packets    uint64 `json:"packets"`
	Qlen       uint64 `json:"qlen"`
	RateBps    uint64 `json:"ratebps"`
	RatePps    uint64 `json:"ratepps"`
	Requeues   uint64 `json:"requeues"`
}

// ebpfFigures holds the optional values of one sample so that Statistics
// can point into one allocation instead of ten.
type ebpfFigures struct {
	rxB, rxP, txB, txP   uint64
	onCPU, rqT, p50, p99 float64
	sw, inv              uint64
}

// Statistics returns the sample as /monitor/statistics shows it.
func (s *Sample) Statistics() Statistics {
	out := Statistics{
		Timestamp:             float64(s.Time.UnixNano()) / 1e9,
		Processes:             s.Processes,
		Threads:               s.Threads,
		CPUsUserTimeSecs:      s.CPUUserSecs,
		CPUsSystemTimeSecs:    s.CPUSystemSecs,
		CPUsLimit:             s.CPUsLimit,
		CPUsNrPeriods:         s.CPUPeriods,
		CPUsNrThrottled:       s.CPUThrottled,
		CPUsThrottledTimeSecs: s.CPUThrottledSecs,
		MemTotalBytes:         s.MemTotal,
		MemLimitBytes:         s.MemLimit,
		MemRSSBytes:           s.MemRSS,
		MemAnonBytes:          s.MemRSS,
		MemFileBytes:          s.MemFile,
		MemCacheBytes:         s.MemFile,
		MemMappedFileBytes:    s.MemMappedFile,
		MemSwapBytes:          s.MemSwap,
		MemRSSPeakBytes:       s.RSSPeak,
		MemOOMKills:           s.OOMKills,
	}
	s.memDiskStatistics(&out)
	if s.Shaped {
		sh := s.Shaping
		if sh.TxRateLimit > 0 {
			out.NetTxRateLimit = &sh.TxRateLimit
		}
		if sh.RxRateLimit > 0 {
			out.NetRxRateLimit = &sh.RxRateLimit
		}
		for _, c := range sh.Classes {
			out.NetTrafficControlStatistics = append(out.NetTrafficControlStatistics, TrafficControlStatistics(c))
		}
		sh.netSockStatistics(&out)
	}
	if !s.Net && !s.EBPF {
		return out
	}
	f := &ebpfFigures{
		rxB: s.NetRxBytes, rxP: s.NetRxPackets, txB: s.NetTxBytes, txP: s.NetTxPackets,
		onCPU: s.OnCPU.Seconds(), rqT: s.RunQueueTotal.Seconds(),
		p50: s.RunQueueP50.Seconds(), p99: s.RunQueueP99.Seconds(),
		sw: s.Switches, inv: s.Involuntary,
	}
	if s.Net {
		out.NetRxBytes, out.NetRxPackets, out.NetTxBytes, out.NetTxPackets = &f.rxB, &f.rxP, &f.txB, &f.txP
	}
	if s.EBPF {
		out.CPUsOnCPUTimeSecs, out.CPUsRunqueueDelayTotalSecs = &f.onCPU, &f.rqT
		out.CPUsRunqueueDelayP50Secs, out.CPUsRunqueueDelayP99Secs = &f.p50, &f.p99
		out.CPUsContextSwitches, out.CPUsInvoluntaryContextSwitches = &f.sw, &f.inv
	}
	return out
}

// Proto returns the sample as a ResourceStatistics message (operator
// GET_CONTAINERS). Mesos's counters that are uint32 in the message saturate
// rather than wrap.
func (s *Sample) Proto() *mesospb.ResourceStatistics {
	u32 := func(v uint64) *uint32 { return proto.Uint32(uint32(min(v, 1<<32-1))) }
	out := &mesospb.ResourceStatistics{
		Timestamp:             proto.Float64(float64(s.Time.UnixNano()) / 1e9),
		Processes:             u32(s.Processes),
		Threads:               u32(s.Threads),
		CpusUserTimeSecs:      proto.Float64(s.CPUUserSecs),
		CpusSystemTimeSecs:    proto.Float64(s.CPUSystemSecs),
		CpusLimit:             proto.Float64(s.CPUsLimit),
		CpusNrPeriods:         u32(s.CPUPeriods),
		CpusNrThrottled:       u32(s.CPUThrottled),
		CpusThrottledTimeSecs: proto.Float64(s.CPUThrottledSecs),
		MemTotalBytes:         proto.Uint64(s.MemTotal),
		MemLimitBytes:         proto.Uint64(s.MemLimit),
		MemRssBytes:           proto.Uint64(s.MemRSS),
		MemAnonBytes:          proto.Uint64(s.MemRSS),
		MemFileBytes:          proto.Uint64(s.MemFile),
		MemCacheBytes:         proto.Uint64(s.MemFile),
		MemMappedFileBytes:    proto.Uint64(s.MemMappedFile),
		MemSwapBytes:          proto.Uint64(s.MemSwap),
		MemRssPeakBytes:       proto.Uint64(s.RSSPeak),
		MemOomKills:           proto.Uint64(s.OOMKills),
	}
	s.memDiskProto(out)
	if s.Net {
		out.NetRxBytes, out.NetRxPackets = proto.Uint64(s.NetRxBytes), proto.Uint64(s.NetRxPackets)
		out.NetTxBytes, out.NetTxPackets = proto.Uint64(s.NetTxBytes), proto.Uint64(s.NetTxPackets)
	}
	if s.Shaping.TxRateLimit > 0 {
		out.NetTxRateLimit = proto.Uint64(s.Shaping.TxRateLimit)
	}
	if s.Shaping.RxRateLimit > 0 {
		out.NetRxRateLimit = proto.Uint64(s.Shaping.RxRateLimit)
	}
	for _, c := range s.Shaping.Classes {
		out.NetTrafficControlStatistics = append(out.NetTrafficControlStatistics, &mesospb.TrafficControlStatistics{
			Id: proto.String(c.ID), Backlog: proto.Uint64(c.Backlog), Bytes: proto.Uint64(c.Bytes),
			Drops: proto.Uint64(c.Drops), Overlimits: proto.Uint64(c.Overlimits), Packets: proto.Uint64(c.Packets),
			Qlen: proto.Uint64(c.Qlen), Ratebps: proto.Uint64(c.RateBps), Ratepps: proto.Uint64(c.RatePps),
			Requeues: proto.Uint64(c.Requeues),
		})
	}
	if s.Shaped {
		s.Shaping.netSockProto(out)
	}
	if s.EBPF {
		out.CpusOncpuTimeSecs = proto.Float64(s.OnCPU.Seconds())
		out.CpusRunqueueDelayTotalSecs = proto.Float64(s.RunQueueTotal.Seconds())
		out.CpusRunqueueDelayP50Secs = proto.Float64(s.RunQueueP50.Seconds())
		out.CpusRunqueueDelayP99Secs = proto.Float64(s.RunQueueP99.Seconds())
		out.CpusContextSwitches = proto.Uint64(s.Switches)
		out.CpusInvoluntaryContextSwitches = proto.Uint64(s.Involuntary)
	}
	return out
}
