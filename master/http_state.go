package master

import (
	"encoding/json"
	"net/http"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
)

// The legacy /state JSON: the shape Mesos 1.x serves and tools scrape.

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode json: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (m *Master) serveState(w http.ResponseWriter, r *http.Request) {
	var state map[string]any
	if !m.do(r.Context(), func() { state = m.legacyState() }) {
		http.Error(w, "master is shutting down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, state)
}

func flat(rs resources.Resources) map[string]any { return rs.Flatten() }

func flatProto(in []*mesospb.Resource) map[string]any {
	rs, _ := fromProto(in)
	return flat(rs)
}

// legacyState runs on the loop.
func (m *Master) legacyState() map[string]any {
	c := m.core
	info := c.info
	pid := info.GetPid()
	slaves := []any{}
	for _, a := range c.sortedAgents() {
		used, offered := c.usedOn(a.id)
		attrs := map[string]any{}
		for _, at := range a.info.GetAttributes() {
			switch {
			case at.Scalar != nil:
				attrs[at.GetName()] = at.GetScalar().GetValue()
			case at.Text != nil:
				attrs[at.GetName()] = at.GetText().GetValue()
			}
		}
		slaves = append(slaves, map[string]any{
			"id":                   string(a.id),
			"pid":                  "slave(1)@" + a.addr.String(),
			"hostname":             a.info.GetHostname(),
			"port":                 int(a.addr.Port()),
			"registered_time":      seconds(a.registered),
			"resources":            flat(a.total),
			"used_resources":       flat(used),
			"offered_resources":    flat(offered),
			"reserved_resources":   map[string]any{},
			"unreserved_resources": flat(a.total.Unreserved()),
			"attributes":           attrs,
			"active":               true,
			"version":              a.version,
			"capabilities":         []string{},
		})
	}
	frameworks := []any{}
	for _, f := range c.sortedFrameworks() {
		frameworks = append(frameworks, m.legacyFramework(f, true))
	}
	completed := []any{}
	for _, f := range c.completed {
		completed = append(completed, m.legacyFramework(f, false))
	}
	return map[string]any{
		"version":                 Version,
		"id":                      string(c.masterID),
		"pid":                     pid,
		"hostname":                info.GetHostname(),
		"leader":                  pid,
		"leader_info":             legacyMasterInfo(info),
		"start_time":              seconds(m.start),
		"elected_time":            seconds(m.start),
		"activated_slaves":        len(c.agents),
		"deactivated_slaves":      0,
		"unreachable_slaves":      0,
		"slaves":                  slaves,
		"frameworks":              frameworks,
		"completed_frameworks":    completed,
		"orphan_tasks":            []any{},
		"unregistered_frameworks": []any{},
		"flags":                   m.flagValues(),
	}
}

func legacyMasterInfo(info *mesospb.MasterInfo) map[string]any {
	return map[string]any{
		"id":       info.GetId(),
		"pid":      info.GetPid(),
		"port":     info.GetPort(),
		"ip":       info.GetIp(),
		"hostname": info.GetHostname(),
		"version":  info.GetVersion(),
		"address": map[string]any{
			"hostname": info.GetAddress().GetHostname(),
			"ip":       info.GetAddress().GetIp(),
			"port":     info.GetAddress().GetPort(),
		},
	}
}

// legacyFramework: an HTTP framework has no "pid" key at all.
func (m *Master) legacyFramework(f *framework, live bool) map[string]any {
	c := m.core
	used, offered := c.frameworkUse(f)
	tasks, done := []any{}, []any{}
	for _, t := range f.tasks {
		if isTerminal(t.pb.GetState()) {
			done = append(done, legacyTask(t.pb))
		} else {
			tasks = append(tasks, legacyTask(t.pb))
		}
	}
	for _, t := range f.completed {
		done = append(done, legacyTask(t))
	}
	offers := []any{}
	if live {
		for id := range f.offers {
			if o, ok := c.offers[id]; ok {
				offers = append(offers, map[string]any{
					"id": string(o.id), "framework_id": string(o.fw), "slave_id": string(o.agent),
					"resources": flat(o.res),
				})
			}
		}
	}
	caps := []string{}
	for _, cp := range f.info.GetCapabilities() {
		caps = append(caps, cp.GetType().String())
	}
	unregistered := 0.0
	if f.stream == "" && !f.unregistered.IsZero() {
		unregistered = seconds(f.unregistered)
	}
	out := map[string]any{
		"id":                string(f.id),
		"name":              f.info.GetName(),
		"user":              f.info.GetUser(),
		"hostname":          f.info.GetHostname(),
		"webui_url":         f.info.GetWebuiUrl(),
		"principal":         f.info.GetPrincipal(),
		"role":              f.info.GetRole(),
		"failover_timeout":  f.info.GetFailoverTimeout(),
		"checkpoint":        f.info.GetCheckpoint(),
		"capabilities":      caps,
		"active":            live && f.active,
		"connected":         live && f.stream != "",
		"recovered":         false,
		"registered_time":   seconds(f.registered),
		"unregistered_time": unregistered,
		"resources":         flat(used.Add(offered)),
		"used_resources":    flat(used),
		"offered_resources": flat(offered),
		"tasks":             tasks,
		"completed_tasks":   done,
		"unreachable_tasks": []any{},
		"offers":            offers,
		"executors":         []any{},
	}
	if f.multiRole() {
		out["roles"] = f.roles()
		delete(out, "role")
	}
	if !f.reregistered.IsZero() {
		out["reregistered_time"] = seconds(f.reregistered)
	}
	return out
}

func legacyTask(t *mesospb.Task) map[string]any {
	statuses := []any{}
	for _, s := range t.GetStatuses() {
		statuses = append(statuses, map[string]any{"state": s.GetState().String(), "timestamp": s.GetTimestamp()})
	}
	return map[string]any{
		"id":           t.GetTaskId().GetValue(),
		"name":         t.GetName(),
		"framework_id": t.GetFrameworkId().GetValue(),
		"executor_id":  t.GetExecutorId().GetValue(),
		"slave_id":     t.GetAgentId().GetValue(),
		"state":        t.GetState().String(),
		"resources":    flatProto(t.GetResources()),
		"statuses":     statuses,
	}
}
