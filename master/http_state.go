package master

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// The legacy /state JSON: the shape Mesos 1.x serves and tools scrape.
// Everything here runs on the loop goroutine.

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode json: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func flat(rs resources.Resources) map[string]any { return rs.Flatten() }

func flatProto(in []*mesospb.Resource) map[string]any {
	rs, _ := fromProto(in)
	return flat(rs)
}

// protoJSON is a message in Mesos's JSON mapping, embedded as is.
func protoJSON(m proto.Message) json.RawMessage {
	b, err := api.JSON.Marshal(m)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// fullJSON is the *_full form of resources: the wire messages as JSON.
func fullJSON(rs []*mesospb.Resource) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(rs))
	for _, r := range rs {
		out = append(out, protoJSON(r))
	}
	return out
}

func (m *Master) legacyState() map[string]any {
	c := m.core
	info := c.info
	pid := info.GetPid()
	live, done := m.legacyFrameworks()
	var active, inactive int
	for _, a := range c.agents {
		if a.active {
			active++
		} else {
			inactive++
		}
	}
	return map[string]any{
		"version":                 Version,
		"git_sha":                 "",
		"build_date":              "",
		"build_time":              0,
		"build_user":              "",
		"id":                      string(c.masterID),
		"pid":                     pid,
		"hostname":                info.GetHostname(),
		"leader":                  pid,
		"leader_info":             protoJSON(info),
		"start_time":              seconds(m.start),
		"elected_time":            seconds(m.start),
		"activated_slaves":        active,
		"deactivated_slaves":      inactive,
		"unreachable_slaves":      len(c.unreachable),
		"slaves":                  m.legacySlaves(),
		"recovered_slaves":        m.legacyRecovered(),
		"frameworks":              live,
		"completed_frameworks":    done,
		"orphan_tasks":            []any{},
		"unregistered_frameworks": []any{},
		"flags":                   m.flagValues(),
	}
}

func (m *Master) legacySlaves() []any {
	c := m.core
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
			case at.Ranges != nil:
				attrs[at.GetName()] = flatProto([]*mesospb.Resource{{Name: at.Name, Type: mesospb.Value_RANGES.Enum(), Ranges: at.Ranges}})[at.GetName()]
			case at.Set != nil:
				attrs[at.GetName()] = "{" + joinItems(at.GetSet().GetItem()) + "}"
			}
		}
		reserved := map[string]any{}
		var reservedFull []*mesospb.Resource
		for r := range a.total.All() {
			if r.Role != "" && r.Role != resources.Unreserved {
				one := resources.Must(r)
				prev, _ := reserved[r.Role].(map[string]any)
				merged := flat(one)
				for k, v := range prev {
					merged[k] = v
				}
				reserved[r.Role] = merged
				reservedFull = append(reservedFull, toProto(one, "")...)
			}
		}
		slaves = append(slaves, map[string]any{
			"id":                        string(a.id),
			"pid":                       "slave(1)@" + a.addr.String(),
			"hostname":                  a.info.GetHostname(),
			"port":                      int(a.addr.Port()),
			"registered_time":           seconds(a.registered),
			"resources":                 flat(a.total),
			"used_resources":            flat(used),
			"offered_resources":         flat(offered),
			"reserved_resources":        reserved,
			"unreserved_resources":      flat(a.total.Unreserved()),
			"reserved_resources_full":   fullJSON(reservedFull),
			"unreserved_resources_full": fullJSON(toProto(a.total.Unreserved(), "")),
			"used_resources_full":       fullJSON(toProto(used, "")),
			"offered_resources_full":    fullJSON(toProto(offered, "")),
			"measured_usage":            m.measuredJSON(a),
			"attributes":                attrs,
			"active":                    a.active,
			"deactivated":               !a.active,
			"version":                   a.version,
			"capabilities":              []string{"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"},
		})
	}
	return slaves
}

func joinItems(items []string) string {
	out := ""
	for i, it := range items {
		if i > 0 {
			out += ","
		}
		out += it
	}
	return out
}

// legacyRecovered lists agents known from the registry that have not come
// back since this master started.
func (m *Master) legacyRecovered() []any {
	out := []any{}
	rec := make([]ids.AgentID, 0, len(m.core.recovered))
	for id := range m.core.recovered {
		rec = append(rec, id)
	}
	slices.Sort(rec)
	for _, id := range rec {
		info := m.core.recovered[id]
		out = append(out, map[string]any{
			"id": string(id), "hostname": info.GetHostname(), "port": info.GetPort(),
			"resources": flatProto(info.GetResources()),
		})
	}
	return out
}

func (m *Master) legacyFrameworks() (live, done []any) {
	live, done = []any{}, []any{}
	for _, f := range m.core.sortedFrameworks() {
		live = append(live, m.legacyFramework(f, true))
	}
	for _, f := range m.core.completed {
		done = append(done, m.legacyFramework(f, false))
	}
	return live, done
}

func (m *Master) legacyRoles() []any {
	out := []any{}
	for _, r := range m.core.alloc.Roles() {
		fws := []string{}
		for _, f := range r.Frameworks {
			fws = append(fws, string(f))
		}
		role := map[string]any{
			"name":           r.Name,
			"weight":         r.Weight,
			"frameworks":     fws,
			"resources":      flat(r.Allocated),
			"allocated":      flat(r.Allocated),
			"reserved":       flat(r.Reserved),
			"consumed_quota": flat(r.Consumed),
		}
		if r.Quota != nil {
			role["quota"] = map[string]any{"role": r.Name, "guarantee": r.Quota.Guarantees, "limit": r.Quota.Limits}
		}
		out = append(out, role)
	}
	return out
}

// legacyFramework: a framework that came over HTTP has no "pid" key at all.
func (m *Master) legacyFramework(f *framework, live bool) map[string]any {
	c := m.core
	used, offered := c.frameworkUse(f)
	tasks, done, unreachable := []any{}, []any{}, []any{}
	tids := make([]ids.TaskID, 0, len(f.tasks))
	for id := range f.tasks {
		tids = append(tids, id)
	}
	slices.Sort(tids)
	for _, id := range tids {
		t := f.tasks[id]
		switch s := t.pb.GetState(); {
		case s == mesospb.TaskState_TASK_UNREACHABLE:
			unreachable = append(unreachable, legacyTask(t.pb))
		case isTerminal(s):
			done = append(done, legacyTask(t.pb))
		default:
			tasks = append(tasks, legacyTask(t.pb))
		}
	}
	for _, t := range f.completed {
		done = append(done, legacyTask(t))
	}
	offers := []any{}
	if live {
		for _, o := range c.sortedOffers() {
			if o.fw != f.id {
				continue
			}
			offers = append(offers, map[string]any{
				"id": string(o.id), "framework_id": string(o.fw), "slave_id": string(o.agent),
				"resources": flat(o.res), "resources_full": fullJSON(o.pb.GetResources()),
				"allocation_info": map[string]any{"role": o.role},
			})
		}
	}
	executors := []any{}
	for aid, byID := range f.executors {
		for _, ex := range byID {
			executors = append(executors, map[string]any{
				"executor_id": ex.GetExecutorId().GetValue(), "name": ex.GetName(),
				"framework_id": string(f.id), "slave_id": string(aid),
				"command":   protoJSON(ex.GetCommand()),
				"resources": flatProto(ex.GetResources()),
			})
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
		"id":                  f.id,
		"name":                f.info.GetName(),
		"user":                f.info.GetUser(),
		"hostname":            f.info.GetHostname(),
		"webui_url":           f.info.GetWebuiUrl(),
		"principal":           f.info.GetPrincipal(),
		"role":                f.info.GetRole(),
		"failover_timeout":    f.info.GetFailoverTimeout(),
		"checkpoint":          f.info.GetCheckpoint(),
		"capabilities":        caps,
		"active":              live && f.active,
		"connected":           live && f.stream != "",
		"recovered":           false,
		"registered_time":     seconds(f.registered),
		"unregistered_time":   unregistered,
		"resources":           flat(used.Add(offered)),
		"used_resources":      flat(used),
		"offered_resources":   flat(offered),
		"tasks":               tasks,
		"completed_tasks":     done,
		"unreachable_tasks":   unreachable,
		"offers":              offers,
		"executors":           executors,
		"completed_executors": []any{},
	}
	if f.multiRole() {
		out["roles"] = f.roles()
		delete(out, "role")
	}
	if !f.reregistered.IsZero() {
		out["reregistered_time"] = seconds(f.reregistered)
	}
	if l := f.info.GetLabels(); l != nil {
		out["labels"] = json.RawMessage(protoJSON(l))
	}
	return out
}

// firstStatus is when a task got its first status (0 when it has none).
func firstStatus(t *mesospb.Task) float64 {
	if st := t.GetStatuses(); len(st) > 0 {
		return st[0].GetTimestamp()
	}
	return 0
}

func legacyTask(t *mesospb.Task) map[string]any {
	statuses := []any{}
	for _, s := range t.GetStatuses() {
		st := map[string]any{"state": s.GetState().String(), "timestamp": s.GetTimestamp()}
		if cs := s.GetContainerStatus(); cs != nil {
			st["container_status"] = protoJSON(cs)
		}
		statuses = append(statuses, st)
	}
	role := ""
	for _, r := range t.GetResources() {
		if ai := r.GetAllocationInfo(); ai != nil {
			role = ai.GetRole()
		}
	}
	out := map[string]any{
		"id":           t.GetTaskId().GetValue(),
		"name":         t.GetName(),
		"framework_id": t.GetFrameworkId().GetValue(),
		"executor_id":  t.GetExecutorId().GetValue(),
		"slave_id":     t.GetAgentId().GetValue(),
		"state":        t.GetState().String(),
		"resources":    flatProto(t.GetResources()),
		"statuses":     statuses,
		"user":         t.GetUser(),
	}
	if role != "" {
		out["role"] = role
	}
	if t.Labels != nil {
		out["labels"] = protoJSON(t.Labels)
	}
	if t.Discovery != nil {
		out["discovery"] = protoJSON(t.Discovery)
	}
	if t.Container != nil {
		out["container"] = protoJSON(t.Container)
	}
	return out
}
