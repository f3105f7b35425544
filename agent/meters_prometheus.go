package agent

import (
	"net/http"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// taskLabels label every per-task series.
var taskLabels = []string{"framework_id", "executor_id", "task_id"}

// taskMetric is one per-task series: its name, help, type, and how to take
// its value from a sample (ok false when the sample lacks it).
type taskMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(s *usage.Sample) (v float64, ok bool)
}

func always(f func(s *usage.Sample) float64) func(*usage.Sample) (float64, bool) {
	return func(s *usage.Sample) (float64, bool) { return f(s), true }
}

func ifEBPF(f func(s *usage.Sample) float64) func(*usage.Sample) (float64, bool) {
	return func(s *usage.Sample) (float64, bool) { return f(s), s.EBPF }
}

func ifNet(f func(s *usage.Sample) float64) func(*usage.Sample) (float64, bool) {
	return func(s *usage.Sample) (float64, bool) { return f(s), s.Net }
}

func newTaskMetric(name, help string, typ prometheus.ValueType, value func(*usage.Sample) (float64, bool)) taskMetric {
	return taskMetric{prometheus.NewDesc("cairn_task_"+name, help, taskLabels, nil), typ, value}
}

// taskMetrics are the per-task series of /metrics: counters for cumulative
// seconds, bytes and events, gauges for levels.
var taskMetrics = []taskMetric{
	newTaskMetric("cpu_user_seconds_total", "CPU time in user mode (cgroup).", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return s.CPUUserSecs })),
	newTaskMetric("cpu_system_seconds_total", "CPU time in kernel mode (cgroup).", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return s.CPUSystemSecs })),
	newTaskMetric("cpu_oncpu_seconds_total", "Time the task's threads ran on a CPU (eBPF sched_switch).", prometheus.CounterValue, ifEBPF(func(s *usage.Sample) float64 { return s.OnCPU.Seconds() })),
	newTaskMetric("cpu_runqueue_delay_seconds_total", "Time the task's runnable threads waited for a CPU (eBPF).", prometheus.CounterValue, ifEBPF(func(s *usage.Sample) float64 { return s.RunQueueTotal.Seconds() })),
	newTaskMetric("cpu_runqueue_delay_p50_seconds", "Median run-queue delay over the last sampling interval (eBPF).", prometheus.GaugeValue, ifEBPF(func(s *usage.Sample) float64 { return s.RunQueueP50.Seconds() })),
	newTaskMetric("cpu_runqueue_delay_p99_seconds", "99th percentile run-queue delay over the last sampling interval (eBPF).", prometheus.GaugeValue, ifEBPF(func(s *usage.Sample) float64 { return s.RunQueueP99.Seconds() })),
	newTaskMetric("cpu_context_switches_total", "Context switches away from the task's threads (eBPF).", prometheus.CounterValue, ifEBPF(func(s *usage.Sample) float64 { return float64(s.Switches) })),
	newTaskMetric("cpu_involuntary_context_switches_total", "Preemptions of the task's threads (eBPF).", prometheus.CounterValue, ifEBPF(func(s *usage.Sample) float64 { return float64(s.Involuntary) })),
	newTaskMetric("cpu_limit", "CPU limit of the container (cpus).", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return s.CPUsLimit })),
	newTaskMetric("cpu_periods_total", "CFS periods elapsed.", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return float64(s.CPUPeriods) })),
	newTaskMetric("cpu_throttled_periods_total", "CFS periods in which the container was throttled.", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return float64(s.CPUThrottled) })),
	newTaskMetric("cpu_throttled_seconds_total", "Time the container was throttled.", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return s.CPUThrottledSecs })),
	newTaskMetric("memory_total_bytes", "Memory charged to the container's memory cgroup.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemTotal) })),
	newTaskMetric("memory_limit_bytes", "Memory limit of the container (0: none).", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemLimit) })),
	newTaskMetric("memory_rss_bytes", "Anonymous memory (Mesos mem_rss_bytes).", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemRSS) })),
	newTaskMetric("memory_cache_bytes", "Page cache.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemFile) })),
	newTaskMetric("memory_mapped_file_bytes", "Mapped file memory.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemMappedFile) })),
	newTaskMetric("memory_swap_bytes", "Swap used.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.MemSwap) })),
	newTaskMetric("memory_rss_peak_bytes", "Peak resident memory.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.RSSPeak) })),
	newTaskMetric("memory_oom_kills_total", "OOM kills in the container.", prometheus.CounterValue, always(func(s *usage.Sample) float64 { return float64(s.OOMKills) })),
	newTaskMetric("network_receive_bytes_total", "Bytes received by the task's sockets, IP headers included (eBPF).", prometheus.CounterValue, ifNet(func(s *usage.Sample) float64 { return float64(s.NetRxBytes) })),
	newTaskMetric("network_receive_packets_total", "Packets received by the task's sockets (eBPF).", prometheus.CounterValue, ifNet(func(s *usage.Sample) float64 { return float64(s.NetRxPackets) })),
	newTaskMetric("network_transmit_bytes_total", "Bytes sent by the task's sockets, IP headers included (eBPF).", prometheus.CounterValue, ifNet(func(s *usage.Sample) float64 { return float64(s.NetTxBytes) })),
	newTaskMetric("network_transmit_packets_total", "Packets sent by the task's sockets, as wire segments (eBPF).", prometheus.CounterValue, ifNet(func(s *usage.Sample) float64 { return float64(s.NetTxPackets) })),
	newTaskMetric("network_transmit_rate_limit_bytes_per_second", "The task's network_bandwidth, in bytes/s, when bandwidth isolation shapes it (Mesos net_tx_rate_limit).", prometheus.GaugeValue, func(s *usage.Sample) (float64, bool) {
		return float64(s.Shaping.TxRateLimit), s.Shaped && s.Shaping.TxRateLimit > 0
	}),
	newTaskMetric("processes", "Processes in the container.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.Processes) })),
	newTaskMetric("threads", "Threads in the container.", prometheus.GaugeValue, always(func(s *usage.Sample) float64 { return float64(s.Threads) })),
}

var usageSourceDesc = prometheus.NewDesc("cairn_agent_usage_source", "What the agent measures task usage with (1 for the source in use).", []string{"source"}, nil)

// usageCollector turns the latest samples into metrics at scrape time.
type usageCollector struct{ a *Agent }

func (c usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usageSourceDesc
	for _, m := range taskMetrics {
		ch <- m.desc
	}
}

func (c usageCollector) Collect(ch chan<- prometheus.Metric) {
	if src := c.a.usageSource(); src != "" {
		ch <- prometheus.MustNewConstMetric(usageSourceDesc, prometheus.GaugeValue, 1, src)
	}
	seen := map[[3]string]bool{}
	for _, v := range c.a.running() {
		labels := [3]string{string(v.FrameworkID), string(v.ExecutorID), string(v.TaskID)}
		if seen[labels] {
			continue // the registry refuses duplicate series; executor ids are unique anyway
		}
		seen[labels] = true
		for _, m := range taskMetrics {
			if val, ok := m.value(&v.Latest); ok {
				ch <- prometheus.MustNewConstMetric(m.desc, m.typ, val, labels[:]...)
			}
		}
	}
}

// metricsHandler serves /metrics in the Prometheus text format: the
// per-task usage series, the usage source, and the agent process's own
// (Go runtime, CPU, memory) so its metering cost is visible. One registry
// per agent: several agents may share a process in tests.
func (a *Agent) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(usageCollector{a}, bandwidthCollector{a}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
