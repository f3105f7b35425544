package agent

import (
	"encoding/json"
	"net/http"
	"path/filepath"

	"github.com/cairnhq/cairn/agent/files"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/executor", a.executorAPI)
	mux.HandleFunc("/api/v1", a.operatorAPI)
	mux.HandleFunc("/internal/v1/state", a.internalState)
	mux.HandleFunc("/internal/v1/registered", internalPost(a, func() *internalpb.Registered { return &internalpb.Registered{} }, a.registered))
	mux.HandleFunc("/internal/v1/run_tasks", internalPost(a, func() *internalpb.RunTasks { return &internalpb.RunTasks{} }, a.runTasks))
	mux.HandleFunc("/internal/v1/kill_task", internalPost(a, func() *internalpb.KillTask { return &internalpb.KillTask{} }, a.killTask))
	mux.HandleFunc("/internal/v1/shutdown_framework", internalPost(a, func() *internalpb.ShutdownFramework { return &internalpb.ShutdownFramework{} }, a.shutdownFramework))
	mux.HandleFunc("/internal/v1/framework_message", internalPost(a, func() *internalpb.FrameworkToExecutor { return &internalpb.FrameworkToExecutor{} }, a.frameworkMessage))
	mux.HandleFunc("/internal/v1/shutdown_executor", internalPost(a, func() *internalpb.ShutdownExecutor { return &internalpb.ShutdownExecutor{} }, a.shutdownExecutor))
	mux.HandleFunc("/internal/v1/status_update_ack", internalPost(a, func() *internalpb.StatusUpdateAck { return &internalpb.StatusUpdateAck{} }, a.statusUpdateAck))
	a.resourceRoutes(mux)
	fsrv := &files.Server{Root: filepath.Join(a.cfg.WorkDir, "slaves"), AgentID: func() string {
		id, _ := a.publicID.Load().(ids.AgentID)
		return string(id)
	}}
	fsrv.Register(mux, "/slave(1)")
	for _, prefix := range []string{"", "/slave(1)"} {
		mux.HandleFunc(prefix+"/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		mux.HandleFunc(prefix+"/state", a.legacyState)
		mux.HandleFunc(prefix+"/state.json", a.legacyState)
		a.monitorRoutes(mux, prefix)
		mux.HandleFunc(prefix+"/metrics/snapshot", a.metricsSnapshot)
		a.legacyRoutes(mux, prefix)
	}
	return mux
}

// snapshot is AgentState built on the loop.
func (a *Agent) snapshot(st *state) *internalpb.AgentState {
	out := &internalpb.AgentState{
		AgentInfo: a.agentInfo(st.agentID),
		Version:   proto.String(Version),
		NodeName:  proto.String(a.nodeName()),
	}
	for _, fw := range st.frameworks {
		out.Frameworks = append(out.Frameworks, fw.info)
		for _, e := range fw.executors {
			if !e.command {
				out.Executors = append(out.Executors, e.info)
			}
			for _, t := range e.core.Tasks() {
				out.Tasks = append(out.Tasks, a.taskProto(st, fw, e, t))
			}
		}
	}
	return out
}

func (a *Agent) internalState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	var snap *internalpb.AgentState
	if err := a.do(r.Context(), func(st *state) { snap = a.snapshot(st) }); err != nil {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	b, err := proto.Marshal(snap)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

// legacyState serves the minimal Mesos /state JSON.
func (a *Agent) legacyState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	var out map[string]any
	if err := a.do(r.Context(), func(st *state) { out = a.legacyJSON(st) }); err != nil {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (a *Agent) legacyJSON(st *state) map[string]any {
	frameworks := []any{}
	for _, fw := range st.frameworks {
		executors := []any{}
		for _, e := range fw.executors {
			tasks := []any{}
			for _, t := range e.core.Tasks() {
				res, _ := resources.FromProto(t.Info.GetResources())
				tasks = append(tasks, map[string]any{
					"id":           t.Info.GetTaskId().GetValue(),
					"name":         t.Info.GetName(),
					"framework_id": fw.info.GetId().GetValue(),
					"executor_id":  string(e.core.ID),
					"slave_id":     string(st.agentID),
					"state":        t.State.String(),
					"resources":    res.Flatten(),
				})
			}
			executors = append(executors, map[string]any{
				"id":        string(e.core.ID),
				"name":      e.info.GetName(),
				"container": string(e.container),
				"directory": e.sandbox,
				"tasks":     tasks,
			})
		}
		frameworks = append(frameworks, map[string]any{
			"id":        fw.info.GetId().GetValue(),
			"name":      fw.info.GetName(),
			"user":      fw.info.GetUser(),
			"executors": executors,
		})
	}
	used := st.allocated()
	return map[string]any{
		"usage_source":         a.usageSource(),
		"version":              Version,
		"id":                   string(st.agentID),
		"pid":                  "slave(1)@" + a.endpoint(),
		"hostname":             a.cfg.Hostname,
		"start_time":           float64(a.started.UnixNano()) / 1e9,
		"resources":            a.total.Flatten(),
		"used_resources":       used.Flatten(),
		"unreserved_resources": a.total.Flatten(),
		"master_hostname":      st.masterInfo.GetHostname(),
		"frameworks":           frameworks,
		"completed_frameworks": []any{},
	}
}

// shutdownExecutors runs when the agent stops: no new work, every stream
// closed. Executors of checkpointing frameworks keep running (their
// executors retry until the next agent recovers them); the others cannot be
// recovered and are destroyed, as all are after KillAllOnStop.
func (a *Agent) shutdownExecutors() {
	_ = a.do(a.bg, func(st *state) {
		st.stopping = true
		kept := 0
		for _, fw := range st.frameworks {
			for _, e := range fw.executors {
				if e.stream != nil {
					e.stream.close()
				}
				if e.exited {
					continue
				}
				if a.keepOnStop(fw, e) {
					kept++
					continue
				}
				if e.launched {
					a.destroy(e.container)
				} else {
					e.destroyRequested = true
				}
			}
		}
		if kept > 0 {
			a.log.Info("executors of checkpointing frameworks left running for the next agent", "executors", kept)
		}
	})
}

// metricsSnapshot serves the agent's /metrics/snapshot: a flat JSON object
// of numbers, with Mesos's names.
func (a *Agent) metricsSnapshot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a.metrics(r.Context()))
}
