package taskstat

import (
	"encoding/json"
	"fmt"
	"time"
)

// Stats is one container's statistics object: the numeric keys only
// (net_traffic_control_statistics and other non-numbers are dropped).
type Stats map[string]float64

// ParseStats keeps the numeric members of a statistics object.
func ParseStats(raw json.RawMessage) (Stats, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode statistics: %w", err)
	}
	s := make(Stats, len(m))
	for k, v := range m {
		if f, ok := v.(float64); ok {
			s[k] = f
		}
	}
	return s, nil
}

// Time is when the agent took the sample (its `timestamp`), or fallback
// when it did not say.
func (s Stats) Time(fallback time.Time) time.Time {
	if ts, ok := s["timestamp"]; ok && ts > 0 {
		sec := int64(ts)
		return time.Unix(sec, int64((ts-float64(sec))*1e9))
	}
	return fallback
}

// sum adds keys; false when any is absent.
func (s Stats) sum(keys []string) (float64, bool) {
	var v float64
	for _, k := range keys {
		x, ok := s[k]
		if !ok {
			return 0, false
		}
		v += x
	}
	return v, true
}

// Unit says how a metric's value prints.
type Unit uint8

const (
	Percent Unit = iota + 1
	Seconds
	Bytes
	BytesPerSecond
	PerSecond
	CPUs
)

// Metric is one figure derived from statistics keys: a gauge (the sum of
// Keys in the latest sample) or a rate (the change of that sum per second
// between two samples), times Scale.
type Metric struct {
	// Name is the metric's stable name in JSON output.
	Name string
	Unit Unit
	Keys []string
	// Preferred replaces Keys when the samples carry all of it: a more
	// exact meter of the same figure (eBPF on-CPU time counts the slice
	// still running, which cgroup CPU accounting lags behind).
	Preferred []string
	Rate      bool
	Scale     float64
}

// Metrics are every metric top and stats report, in output order. Their
// names are part of the CLI's JSON contract (docs/cli.md).
var Metrics = []Metric{
	{Name: "cpu_percent", Unit: Percent, Keys: []string{"cpus_user_time_secs", "cpus_system_time_secs"},
		Preferred: []string{"cpus_oncpu_time_secs"}, Rate: true, Scale: 100},
	{Name: "cpus_limit", Unit: CPUs, Keys: []string{"cpus_limit"}, Scale: 1},
	{Name: "cpus_throttled_percent", Unit: Percent, Keys: []string{"cpus_throttled_time_secs"}, Rate: true, Scale: 100},
	{Name: "runqueue_delay_p50_secs", Unit: Seconds, Keys: []string{"cpus_runqueue_delay_p50_secs"}, Scale: 1},
	{Name: "runqueue_delay_p99_secs", Unit: Seconds, Keys: []string{"cpus_runqueue_delay_p99_secs"}, Scale: 1},
	{Name: "mem_rss_bytes", Unit: Bytes, Keys: []string{"mem_rss_bytes"}, Scale: 1},
	{Name: "mem_rss_peak_bytes", Unit: Bytes, Keys: []string{"mem_rss_peak_bytes"}, Scale: 1},
	{Name: "mem_total_bytes", Unit: Bytes, Keys: []string{"mem_total_bytes"}, Scale: 1},
	{Name: "mem_limit_bytes", Unit: Bytes, Keys: []string{"mem_limit_bytes"}, Scale: 1},
	{Name: "net_rx_bytes_per_second", Unit: BytesPerSecond, Keys: []string{"net_rx_bytes"}, Rate: true, Scale: 1},
	{Name: "net_tx_bytes_per_second", Unit: BytesPerSecond, Keys: []string{"net_tx_bytes"}, Rate: true, Scale: 1},
	{Name: "net_rx_packets_per_second", Unit: PerSecond, Keys: []string{"net_rx_packets"}, Rate: true, Scale: 1},
	{Name: "net_tx_packets_per_second", Unit: PerSecond, Keys: []string{"net_tx_packets"}, Rate: true, Scale: 1},
	// Bandwidth isolation: the task's network_bandwidth, in bytes/s; absent
	// when the agent does not shape it.
	{Name: "net_tx_rate_limit_bytes_per_second", Unit: BytesPerSecond, Keys: []string{"net_tx_rate_limit"}, Scale: 1},
	{Name: "net_rx_rate_limit_bytes_per_second", Unit: BytesPerSecond, Keys: []string{"net_rx_rate_limit"}, Scale: 1},
}

// MetricByName finds one of Metrics.
func MetricByName(name string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Sample is a statistics object and when it was taken.
type Sample struct {
	At    time.Time
	Stats Stats
}

// Value computes m at cur; prev is the sample before it (nil for none). A
// rate needs prev, a later cur, and counters that did not go back (a
// counter that did was reset: a restarted container), else it has no value.
func (m Metric) Value(prev *Sample, cur Sample) (float64, bool) {
	if len(m.Preferred) > 0 {
		if v, ok := m.value(m.Preferred, prev, cur); ok {
			return v, true
		}
	}
	return m.value(m.Keys, prev, cur)
}

func (m Metric) value(keys []string, prev *Sample, cur Sample) (float64, bool) {
	now, ok := cur.Stats.sum(keys)
	if !ok {
		return 0, false
	}
	if !m.Rate {
		return now * m.Scale, true
	}
	if prev == nil {
		return 0, false
	}
	before, ok := prev.Stats.sum(keys)
	dt := cur.At.Sub(prev.At).Seconds()
	if !ok || dt <= 0 || now < before {
		return 0, false
	}
	return (now - before) / dt * m.Scale, true
}
