package master

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
)

// allocTimer measures allocation runs, the allocator/mesos/allocation_run_ms
// timer: the last value, the count, and percentiles over a window of recent
// runs (Mesos keeps a time series window the same way).
type allocTimer struct {
	count   uint64
	last    float64
	window  []float64 // ring of the last timerWindow runs, ms
	next    int
	sorted  []float64 // scratch
	elapsed float64   // total ms, for the mean
}

const timerWindow = 1000

func newAllocTimer() *allocTimer { return &allocTimer{window: make([]float64, 0, timerWindow)} }

func (t *allocTimer) observe(d time.Duration) {
	ms := float64(d.Nanoseconds()) / 1e6
	t.count++
	t.last = ms
	t.elapsed += ms
	if len(t.window) < timerWindow {
		t.window = append(t.window, ms)
	} else {
		t.window[t.next] = ms
		t.next = (t.next + 1) % timerWindow
	}
}

// put writes the timer's keys under name into snap.
func (t *allocTimer) put(snap map[string]float64, name string) {
	snap[name] = t.last
	snap[name+"/count"] = float64(t.count)
	t.sorted = append(t.sorted[:0], t.window...)
	slices.Sort(t.sorted)
	pct := func(p float64) float64 {
		if len(t.sorted) == 0 {
			return 0
		}
		i := int(p*float64(len(t.sorted)-1) + 0.5)
		return t.sorted[i]
	}
	snap[name+"/min"] = pct(0)
	snap[name+"/max"] = pct(1)
	snap[name+"/p50"] = pct(0.5)
	snap[name+"/p90"] = pct(0.9)
	snap[name+"/p95"] = pct(0.95)
	snap[name+"/p99"] = pct(0.99)
	snap[name+"/p999"] = pct(0.999)
	snap[name+"/p9999"] = pct(0.9999)
}

// metricsSnapshot is /metrics/snapshot and GET_METRICS: the master's keys
// (from the loop), then the system's (from /proc).
func (m *Master) metricsSnapshot(r *http.Request) (map[string]float64, error) {
	snap := map[string]float64{}
	if err := m.onLoop(r, func() error { m.loopMetrics(snap, time.Now()); return nil }); err != nil {
		return nil, err
	}
	systemMetrics(snap)
	return snap, nil
}

// loopMetrics fills the master/ and allocator/ keys (loop goroutine).
func (m *Master) loopMetrics(snap map[string]float64, now time.Time) {
	c := m.core
	snap["master/uptime_secs"] = now.Sub(m.start).Seconds()
	snap["master/elected"] = b2f(m.leader.get().self)

	var active, inactive float64
	var total, used resources.Resources
	for _, a := range c.agents {
		if a.active {
			active++
		} else {
			inactive++
		}
		total = total.Add(a.total)
	}
	snap["master/slaves_connected"] = float64(len(c.agents))
	snap["master/slaves_disconnected"] = 0
	snap["master/slaves_active"] = active
	snap["master/slaves_inactive"] = inactive
	snap["master/slaves_unreachable"] = float64(len(c.unreachable))

	var fwConnected, fwActive float64
	live := map[mesospb.TaskState]float64{}
	for _, f := range c.frameworks {
		if f.stream != "" {
			fwConnected++
		}
		if f.active {
			fwActive++
		}
		for _, t := range f.tasks {
			if s := t.pb.GetState(); !isTerminal(s) {
				live[s]++
				if !t.recovered {
					used = used.Add(t.res)
				}
			}
		}
	}
	snap["master/frameworks_connected"] = fwConnected
	snap["master/frameworks_disconnected"] = float64(len(c.frameworks)) - fwConnected
	snap["master/frameworks_active"] = fwActive
	snap["master/frameworks_inactive"] = float64(len(c.frameworks)) - fwActive
	snap["master/outstanding_offers"] = float64(len(c.offers))

	for _, s := range []mesospb.TaskState{mesospb.TaskState_TASK_STAGING, mesospb.TaskState_TASK_STARTING,
		mesospb.TaskState_TASK_RUNNING, mesospb.TaskState_TASK_KILLING, mesospb.TaskState_TASK_UNREACHABLE} {
		snap["master/tasks_"+strings.TrimPrefix(strings.ToLower(s.String()), "task_")] = live[s]
	}
	for _, s := range []mesospb.TaskState{mesospb.TaskState_TASK_FINISHED, mesospb.TaskState_TASK_FAILED,
		mesospb.TaskState_TASK_KILLED, mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_ERROR,
		mesospb.TaskState_TASK_DROPPED, mesospb.TaskState_TASK_GONE, mesospb.TaskState_TASK_GONE_BY_OPERATOR} {
		snap["master/tasks_"+strings.TrimPrefix(strings.ToLower(s.String()), "task_")] = float64(c.terminal[s])
	}

	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		t, u := total.Scalar(name), used.Scalar(name)
		snap["master/"+name+"_total"] = t
		snap["master/"+name+"_used"] = u
		snap["master/"+name+"_percent"] = ratio(u, t)
		snap["master/"+name+"_revocable_total"] = 0
		snap["master/"+name+"_revocable_used"] = 0
		snap["master/"+name+"_revocable_percent"] = 0
	}
	m.measuredMetrics(snap)

	k := c.counters
	snap["master/valid_framework_to_executor_messages"] = float64(k.validFrameworkMessages)
	snap["master/invalid_framework_to_executor_messages"] = float64(k.invalidFrameworkMessages)
	snap["master/valid_executor_to_framework_messages"] = float64(k.validExecutorMessages)
	snap["master/invalid_executor_to_framework_messages"] = float64(k.invalidExecutorMessages)
	snap["master/valid_status_updates"] = float64(k.validStatusUpdates)
	snap["master/invalid_status_updates"] = float64(k.invalidStatusUpdates)
	snap["master/event_queue_messages"] = float64(len(m.loop))
	snap["master/event_queue_dispatches"] = 0
	snap["master/event_queue_http_requests"] = 0

	st := c.alloc.Stats()
	snap["allocator/mesos/allocation_runs"] = float64(m.allocRun.count)
	m.allocRun.put(snap, "allocator/mesos/allocation_run_ms")
	snap["allocator/mesos/event_queue_dispatches"] = 0
	snap["allocator/mesos/offer_filters/active"] = float64(st.Filters)
	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		snap["allocator/mesos/resources/"+name+"/total"] = st.Total.Scalar(name)
		snap["allocator/mesos/resources/"+name+"/offered_or_allocated"] = st.Allocated.Scalar(name)
	}
	roleMetrics(snap, c.alloc.Roles())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// systemMetrics adds the system/ keys from /proc; a missing file leaves its
// keys at 0 rather than failing the snapshot.
func systemMetrics(snap map[string]float64) {
	snap["system/cpus_total"] = float64(runtime.NumCPU())
	snap["system/load_1min"], snap["system/load_5min"], snap["system/load_15min"] = 0, 0, 0
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		for i, key := range []string{"system/load_1min", "system/load_5min", "system/load_15min"} {
			if i < len(f) {
				snap[key], _ = strconv.ParseFloat(f[i], 64)
			}
		}
	}
	snap["system/mem_total_bytes"], snap["system/mem_free_bytes"] = 0, 0
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "MemTotal:":
				snap["system/mem_total_bytes"] = kb * 1024
			case "MemFree:":
				snap["system/mem_free_bytes"] = kb * 1024
			}
		}
	}
}

func (m *Master) serveMetrics(w http.ResponseWriter, r *http.Request) {
	snap, err := m.metricsSnapshot(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, snap)
}
