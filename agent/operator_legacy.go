package agent

import (
	"encoding/json"
	"net/http"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"google.golang.org/protobuf/proto"
)

// Legacy JSON endpoints that share the operator API's data: /containers
// (as GET_CONTAINERS) and /flags (as GET_FLAGS), in Mesos's shapes.

// legacyRoutes registers them bare and under prefix ("/slave(1)").
func (a *Agent) legacyRoutes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc(prefix+"/containers", a.legacyContainers)
	mux.HandleFunc(prefix+"/flags", a.legacyFlags)
}

// legacyContainers serves Mesos's /containers: a JSON array of
// {container_id, executor_id, executor_name, framework_id, source,
// statistics, status}, statistics always an object.
func (a *Agent) legacyContainers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	cs, err := a.containerStatuses(r.Context())
	if err != nil {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	sources := map[string]string{} // executor → its first task, Mesos's "source"
	_ = a.do(r.Context(), func(st *state) {
		for _, fw := range st.frameworks {
			for _, e := range fw.executors {
				if ts := e.core.Tasks(); len(ts) > 0 {
					sources[string(e.container)] = ts[0].Info.GetTaskId().GetValue()
				}
			}
		}
	})
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		cid := c.GetContainerId().GetValue()
		out = append(out, map[string]any{
			"container_id":  cid,
			"executor_id":   c.GetExecutorId().GetValue(),
			"executor_name": c.GetExecutorName(),
			"framework_id":  c.GetFrameworkId().GetValue(),
			"source":        sources[cid],
			"statistics":    jsonObject(c.GetResourceStatistics()),
			"status":        jsonObject(c.GetContainerStatus()),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// jsonObject is m in Mesos's JSON mapping, {} when m is absent.
func jsonObject(m proto.Message) json.RawMessage {
	if m == nil || !m.ProtoReflect().IsValid() {
		return json.RawMessage("{}")
	}
	b, err := api.JSON.Marshal(m)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// legacyFlags serves /flags: {"flags": {name: value}}.
func (a *Agent) legacyFlags(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	flags := map[string]string{}
	for _, f := range a.flagList() {
		flags[f.GetName()] = f.GetValue()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"flags": flags})
}
