package usage

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends the sample's statistics object to b, byte for byte
// what encoding/json makes of Statistics() (a test holds them equal), at a
// fraction of the cost: /monitor/statistics encodes every running container
// once a round.
func (s *Sample) AppendJSON(b []byte) []byte {
	b = append(b, `{"timestamp":`...)
	b = appendFloat(b, float64(s.Time.UnixNano())/1e9)
	b = appendUintKey(b, "processes", s.Processes)
	b = appendUintKey(b, "threads", s.Threads)
	b = appendFloatKey(b, "cpus_user_time_secs", s.CPUUserSecs)
	b = appendFloatKey(b, "cpus_system_time_secs", s.CPUSystemSecs)
	b = appendFloatKey(b, "cpus_limit", s.CPUsLimit)
	b = appendUintKey(b, "cpus_nr_periods", s.CPUPeriods)
	b = appendUintKey(b, "cpus_nr_throttled", s.CPUThrottled)
	b = appendFloatKey(b, "cpus_throttled_time_secs", s.CPUThrottledSecs)
	b = appendUintKey(b, "mem_total_bytes", s.MemTotal)
	b = appendUintKey(b, "mem_limit_bytes", s.MemLimit)
	b = appendUintKey(b, "mem_rss_bytes", s.MemRSS)
	b = appendUintKey(b, "mem_anon_bytes", s.MemRSS)
	b = appendUintKey(b, "mem_file_bytes", s.MemFile)
	b = appendUintKey(b, "mem_cache_bytes", s.MemFile)
	b = appendUintKey(b, "mem_mapped_file_bytes", s.MemMappedFile)
	b = appendUintKey(b, "mem_swap_bytes", s.MemSwap)
	b = s.appendMemDiskJSON(b)
	if s.Net {
		b = appendUintKey(b, "net_rx_bytes", s.NetRxBytes)
		b = appendUintKey(b, "net_rx_packets", s.NetRxPackets)
		b = appendUintKey(b, "net_tx_bytes", s.NetTxBytes)
		b = appendUintKey(b, "net_tx_packets", s.NetTxPackets)
	}
	if s.Shaped {
		b = s.Shaping.appendJSON(b)
	}
	if s.EBPF {
		b = appendFloatKey(b, "cpus_oncpu_time_secs", s.OnCPU.Seconds())
		b = appendFloatKey(b, "cpus_runqueue_delay_total_secs", s.RunQueueTotal.Seconds())
		b = appendFloatKey(b, "cpus_runqueue_delay_p50_secs", s.RunQueueP50.Seconds())
		b = appendFloatKey(b, "cpus_runqueue_delay_p99_secs", s.RunQueueP99.Seconds())
		b = appendUintKey(b, "cpus_context_switches", s.Switches)
		b = appendUintKey(b, "cpus_involuntary_context_switches", s.Involuntary)
	}
	b = appendUintKey(b, "mem_rss_peak_bytes", s.RSSPeak)
	b = appendUintKey(b, "mem_oom_kills", s.OOMKills)
	return append(b, '}')
}

func appendUintKey(b []byte, key string, v uint64) []byte {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return strconv.AppendUint(b, v, 10)
}

func appendFloatKey(b []byte, key string, v float64) []byte {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return appendFloat(b, v)
}

// appendFloat formats like encoding/json: shortest representation, 'f'
// notation unless the exponent is very small or large, and exponents
// without a leading zero. NaN and infinities, which JSON cannot carry and
// no counter produces, become 0.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // rare: ids are plain ASCII
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// appendJSON appends the shaping keys of Statistics.
func (sh *Shaping) appendJSON(b []byte) []byte {
	if sh.TxRateLimit > 0 {
		b = appendUintKey(b, "net_tx_rate_limit", sh.TxRateLimit)
	}
	if sh.RxRateLimit > 0 {
		b = appendUintKey(b, "net_rx_rate_limit", sh.RxRateLimit)
	}
	if len(sh.Classes) == 0 {
		return sh.appendNetSockJSON(b)
	}
	b = append(b, `,"net_traffic_control_statistics":[`...)
	for i := range sh.Classes {
		c := &sh.Classes[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = AppendJSONString(b, c.ID)
		b = appendUintKey(b, "backlog", c.Backlog)
		b = appendUintKey(b, "bytes", c.Bytes)
		b = appendUintKey(b, "drops", c.Drops)
		b = appendUintKey(b, "overlimits", c.Overlimits)
		b = appendUintKey(b, "packets", c.Packets)
		b = appendUintKey(b, "qlen", c.Qlen)
		b = appendUintKey(b, "ratebps", c.RateBps)
		b = appendUintKey(b, "ratepps", c.RatePps)
		b = appendUintKey(b, "requeues", c.Requeues)
		b = append(b, '}')
	}
	return sh.appendNetSockJSON(append(b, ']'))
}
