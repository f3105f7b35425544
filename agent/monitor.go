package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// monitorRoutes registers the usage endpoints under prefix ("" or
// "/slave(1)"): Mesos's /monitor/statistics, Cairn's /monitor/history and
// the Prometheus /metrics.
func (a *Agent) monitorRoutes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc(prefix+"/monitor/statistics", a.monitorStatistics)
	mux.HandleFunc(prefix+"/monitor/statistics.json", a.monitorStatistics)
	mux.HandleFunc(prefix+"/monitor/history", a.monitorHistory)
	mux.Handle(prefix+"/metrics", a.metricsHandler())
}

// monitorEntry is one container of /monitor/statistics.
type monitorEntry struct {
	ExecutorID   string           `json:"executor_id"`
	ExecutorName string           `json:"executor_name"`
	FrameworkID  string           `json:"framework_id"`
	Source       string           `json:"source"`
	ContainerID  string           `json:"container_id"`
	Statistics   usage.Statistics `json:"statistics"`
}

// running returns the latest view of every running container; nil before
// Run.
func (a *Agent) running() []usage.View {
	u := a.usage
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.store.Running()
}

// monitorStatistics serves Mesos's /monitor/statistics: one entry per
// running container with its latest sample (at most one sampling interval
// old; "timestamp" says when). A container appears after its first sample.
func (a *Agent) monitorStatistics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.statisticsBody())
}

// statisticsBody returns the /monitor/statistics body, encoding it only
// when the samples changed since it was last encoded.
func (a *Agent) statisticsBody() []byte {
	u := a.usage
	if u == nil {
		return []byte("[]\n")
	}
	u.mu.Lock()
	if u.statsBody != nil && u.statsGen == u.gen {
		b := u.statsBody
		u.mu.Unlock()
		return b
	}
	gen := u.gen
	views := u.store.Running()
	u.mu.Unlock()
	b := encodeStatistics(make([]byte, 0, 1024*(len(views)+1)), views)
	u.mu.Lock()
	if u.gen == gen {
		u.statsBody, u.statsGen = b, gen
	}
	u.mu.Unlock()
	return b
}

// encodeStatistics appends the /monitor/statistics array of views: the
// JSON of []monitorEntry, by hand (usage.Sample.AppendJSON) since it is
// encoded for every container every round.
func encodeStatistics(b []byte, views []usage.View) []byte {
	b = append(b, '[')
	for i := range views {
		v := &views[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"executor_id":`...)
		b = usage.AppendJSONString(b, string(v.ExecutorID))
		b = append(b, `,"executor_name":`...)
		b = usage.AppendJSONString(b, v.ExecutorName)
		b = append(b, `,"framework_id":`...)
		b = usage.AppendJSONString(b, string(v.FrameworkID))
		b = append(b, `,"source":`...)
		b = usage.AppendJSONString(b, string(v.TaskID))
		b = append(b, `,"container_id":`...)
		b = usage.AppendJSONString(b, string(v.Container))
		b = append(b, `,"statistics":`...)
		b = v.Latest.AppendJSON(b)
		b = append(b, '}')
	}
	return append(b, ']', '\n')
}

// historyReply is the body of /monitor/history.
type historyReply struct {
	FrameworkID string             `json:"framework_id"`
	ExecutorID  string             `json:"executor_id"`
	TaskID      string             `json:"task_id"`
	ContainerID string             `json:"container_id"`
	Samples     []usage.Statistics `json:"samples"`
}

// monitorHistory serves GET /monitor/history?container_id=X or
// ?task_id=X[&framework_id=F], with an optional since=300s (a Go duration,
// or plain seconds) limiting the samples to the last while: a container's
// samples, oldest first, one per second for up to 15 minutes, kept 15
// minutes after the container ended. A task id finds its running
// container, or the one that ended last.
func (a *Agent) monitorHistory(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("since"); s != "" {
		d, err := parseSince(s)
		if err != nil {
			endpoint.Errorf(w, http.StatusBadRequest, "Failed to parse 'since': %v", err)
			return
		}
		since = time.Now().Add(-d)
	}
	u := a.usage
	if u == nil {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", errStopped)
		return
	}
	container := ids.ContainerID(q.Get("container_id"))
	u.mu.Lock()
	if container == "" {
		task := q.Get("task_id")
		if task == "" {
			u.mu.Unlock()
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting 'container_id' or 'task_id'")
			return
		}
		container, _ = u.store.FindTask(ids.FrameworkID(q.Get("framework_id")), ids.TaskID(task))
	}
	v, samples, ok := u.store.History(container, since)
	u.mu.Unlock()
	if !ok {
		endpoint.Errorf(w, http.StatusNotFound, "No usage history for %s", r.URL.RawQuery)
		return
	}
	out := historyReply{
		FrameworkID: string(v.FrameworkID),
		ExecutorID:  string(v.ExecutorID),
		TaskID:      string(v.TaskID),
		ContainerID: string(v.Container),
		Samples:     make([]usage.Statistics, len(samples)),
	}
	for i := range samples {
		out.Samples[i] = samples[i].Statistics()
	}
	writeJSON(w, out)
}

// parseSince reads "300s", "5m" or "300" (seconds).
func parseSince(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = strconv.ErrRange
	}
	return d, err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// containerStatuses answers operator GET_CONTAINERS: every launched
// container whose executor has not exited, with its latest sample as
// resource_statistics (absent until the first sampling round).
func (a *Agent) containerStatuses(ctx context.Context) ([]*agentpb.Response_GetContainers_Container, error) {
	type row struct {
		fw        ids.FrameworkID
		exec      ids.ExecutorID
		name      string
		container ids.ContainerID
	}
	var rows []row
	if err := a.do(ctx, func(st *state) {
		for fwID, fw := range st.frameworks {
			for _, e := range fw.executors {
				if e.launched && !e.exited {
					rows = append(rows, row{fwID, e.core.ID, e.info.GetName(), e.container})
				}
			}
		}
	}); err != nil {
		return nil, err
	}
	out := make([]*agentpb.Response_GetContainers_Container, 0, len(rows))
	for _, rw := range rows {
		c := &agentpb.Response_GetContainers_Container{
			FrameworkId: &mesospb.FrameworkID{Value: proto.String(string(rw.fw))},
			ExecutorId:  &mesospb.ExecutorID{Value: proto.String(string(rw.exec))},
			ContainerId: &mesospb.ContainerID{Value: proto.String(string(rw.container))},
			ContainerStatus: &mesospb.ContainerStatus{ContainerId: &mesospb.ContainerID{Value: proto.String(string(rw.container))},
				NetworkInfos: a.taskNetInfos(rw.container)},
		}
		if rw.name != "" {
			c.ExecutorName = proto.String(rw.name)
		}
		if u := a.usage; u != nil {
			u.mu.Lock()
			v, ok := u.store.Get(rw.container)
			u.mu.Unlock()
			if ok && !v.Latest.Time.IsZero() {
				c.ResourceStatistics = v.Latest.Proto()
			}
		}
		out = append(out, c)
	}
	return out, nil
}
