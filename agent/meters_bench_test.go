package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/net"
	"github.com/cairnhq/cairn/ids"
)

// benchUsageAgent returns an agent whose store holds n running containers
// with two samples each, as the sampler leaves them; ebpf adds the eBPF
// figures.
func benchUsageAgent(n int, ebpf bool) *Agent {
	u := &usageMonitor{store: usage.NewStore(0), source: UsageSourceCgroups}
	if ebpf {
		u.source = UsageSourceEBPF
	}
	targets := make([]usage.Target, n)
	for i := range targets {
		id := strconv.Itoa(i)
		targets[i] = usage.Target{Container: ids.ContainerID("c-" + id), CgroupID: uint64(i + 1), CPUsLimit: 1.1,
			Labels: usage.Labels{FrameworkID: "fw-0001", ExecutorID: ids.ExecutorID("exec-" + id), TaskID: ids.TaskID("task-" + id)}}
	}
	t0 := time.Now()
	for round := range 2 {
		r := usage.Round{Targets: targets, Readings: make([]usage.Reading, n)}
		for i, t := range targets {
			var h cpu.Histogram
			h.Slots[10+i%5] = uint64(100 * (round + 1))
			r.Readings[i] = usage.Reading{Target: t,
				Counters: usage.Counters{CPUUserSecs: 12.5, CPUSystemSecs: 3.25, CPUTotal: 15 * time.Second, MemTotal: 200 << 20, MemLimit: 256 << 20, MemRSS: 150 << 20, Processes: 3, Threads: 9},
				CPU:      cpu.Stats{OnCPU: time.Duration(round+1) * time.Second, Switches: 5000, RunQueue: h}, HasCPU: ebpf,
				Net: net.Stats{RxBytes: 1 << 30, TxBytes: 2 << 30, RxPackets: 1 << 20, TxPackets: 2 << 20}, HasNet: ebpf,
				Peak: 180 << 20, HasPeak: ebpf,
			}
		}
		u.store.Apply(t0.Add(time.Duration(round)*time.Second), r)
	}
	return &Agent{usage: u}
}

// BenchmarkMonitorStatistics measures /monitor/statistics at the HTTP
// handler (no network). "fresh" encodes every running container's latest
// sample on each request, as the first request after a sampling round does;
// "cached" is every later request of the round. It reports the 99th
// percentile of the requests' latencies as p99-ms.
func BenchmarkMonitorStatistics(b *testing.B) {
	for _, n := range []int{50, 200} {
		for _, ebpf := range []bool{false, true} {
			for _, fresh := range []bool{true, false} {
				name := "containers=" + strconv.Itoa(n) + "/source=cgroups"
				if ebpf {
					name = "containers=" + strconv.Itoa(n) + "/source=ebpf"
				}
				if fresh {
					name += "/fresh"
				} else {
					name += "/cached"
				}
				b.Run(name, func(b *testing.B) { benchStatistics(b, n, ebpf, fresh) })
			}
		}
	}
}

func benchStatistics(b *testing.B, n int, ebpf, fresh bool) {
	a := benchUsageAgent(n, ebpf)
	req := httptest.NewRequest(http.MethodGet, "/monitor/statistics", nil)
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		if fresh {
			a.usage.mu.Lock()
			a.usage.gen++ // as a sampling round does
			a.usage.mu.Unlock()
		}
		start := time.Now()
		w := httptest.NewRecorder()
		a.monitorStatistics(w, req)
		lat = append(lat, time.Since(start))
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkStatisticsEncoding compares encoding the /monitor/statistics
// body of 200 containers with encoding/json and by hand.
func BenchmarkStatisticsEncoding(b *testing.B) {
	views := benchUsageAgent(200, true).running()
	b.Run("encoding=json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]monitorEntry, 0, len(views))
			for i := range views {
				v := &views[i]
				out = append(out, monitorEntry{ExecutorID: string(v.ExecutorID), ExecutorName: v.ExecutorName, FrameworkID: string(v.FrameworkID),
					Source: string(v.TaskID), ContainerID: string(v.Container), Statistics: v.Latest.Statistics()})
			}
			if _, err := json.Marshal(out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding=append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeStatistics(make([]byte, 0, 1024*(len(views)+1)), views)
		}
	})
}
