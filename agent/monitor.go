package agent

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/ids"
)

// monitorRoutes registers the usage endpoints under prefix ("" or
// "/slave(1)").
func (a *Agent) monitorRoutes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc(prefix+"/monitor/statistics", a.monitorStatistics)
	mux.HandleFunc(prefix+"/monitor/statistics.json", a.monitorStatistics)
}

// monitorEntry is one container of /monitor/statistics.
type monitorEntry struct {
	ExecutorID   string         `json:"executor_id"`
	ExecutorName string         `json:"executor_name"`
	FrameworkID  string         `json:"framework_id"`
	Source       string         `json:"source"`
	Statistics   map[string]any `json:"statistics"`
	container    ids.ContainerID
	cpusLimit    float64
}

// monitorStatistics serves Mesos's /monitor/statistics: one entry per
// running container with its ResourceStatistics. Usage is read outside the
// loop (it reads cgroup files).
func (a *Agent) monitorStatistics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	var entries []*monitorEntry
	err := a.do(r.Context(), func(st *state) {
		for _, fw := range st.frameworks {
			for _, e := range fw.executors {
				if !e.launched || e.exited {
					continue
				}
				var source string
				if ts := e.core.Tasks(); len(ts) > 0 {
					source = ts[0].Info.GetTaskId().GetValue()
				}
				entries = append(entries, &monitorEntry{
					ExecutorID:   string(e.core.ID),
					ExecutorName: e.info.GetName(),
					FrameworkID:  fw.info.GetId().GetValue(),
					Source:       source,
					container:    e.container,
					cpusLimit:    e.cpus,
				})
			}
		}
	})
	if err != nil {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	out := []*monitorEntry{}
	for _, m := range entries {
		u, err := a.ctr.Usage(m.container)
		if err != nil {
			continue // exited meanwhile
		}
		m.Statistics = map[string]any{
			"timestamp":                float64(time.Now().UnixNano()) / 1e9,
			"processes":                u.Processes,
			"threads":                  u.Threads,
			"cpus_user_time_secs":      u.CPUUserSeconds,
			"cpus_system_time_secs":    u.CPUSystemSeconds,
			"cpus_limit":               m.cpusLimit,
			"cpus_nr_periods":          u.CPUPeriods,
			"cpus_nr_throttled":        u.CPUThrottled,
			"cpus_throttled_time_secs": u.CPUThrottledSeconds,
			"mem_total_bytes":          u.MemTotalBytes,
			"mem_limit_bytes":          u.MemLimitBytes,
			"mem_rss_bytes":            u.MemRSSBytes,
			"mem_anon_bytes":           u.MemRSSBytes,
			"mem_file_bytes":           u.MemFileBytes,
			"mem_cache_bytes":          u.MemFileBytes,
			"mem_mapped_file_bytes":    u.MemMappedFileBytes,
			"mem_swap_bytes":           u.MemSwapBytes,
		}
		out = append(out, m)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
