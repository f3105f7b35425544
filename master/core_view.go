package master

import (
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Read-only views of the core for the operator API and /state. They copy,
// so the result may leave the loop goroutine.

func timeInfo(t time.Time) *mesospb.TimeInfo {
	if t.IsZero() {
		return nil
	}
	return &mesospb.TimeInfo{Nanoseconds: proto.Int64(t.UnixNano())}
}

func (c *core) sortedAgents() []*agent {
	out := make([]*agent, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *agent) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

func (c *core) sortedFrameworks() []*framework {
	out := make([]*framework, 0, len(c.frameworks))
	for _, f := range c.frameworks {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *framework) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

// usedOn sums what frameworks use (live tasks) and are offered on agent id.
func (c *core) usedOn(id ids.AgentID) (used, offered resources.Resources) {
	for _, f := range c.frameworks {
		for _, t := range f.tasks {
			if t.agent == id && !isTerminal(t.pb.GetState()) && !t.recovered {
				used = used.Add(t.res)
			}
		}
	}
	for _, o := range c.offers {
		if o.agent == id {
			offered = offered.Add(o.res)
		}
	}
	return used, offered
}

func (c *core) frameworkUse(f *framework) (used, offered resources.Resources) {
	for _, t := range f.tasks {
		if !isTerminal(t.pb.GetState()) && !t.recovered {
			used = used.Add(t.res)
		}
	}
	for id := range f.offers {
		if o, ok := c.offers[id]; ok {
			offered = offered.Add(o.res)
		}
	}
	return used, offered
}

func (c *core) viewAgent(a *agent) *masterpb.Response_GetAgents_Agent {
	used, offered := c.usedOn(a.id)
	version := a.version
	if version == "" {
		version = Version
	}
	return &masterpb.Response_GetAgents_Agent{
		AgentInfo:          proto.Clone(a.info).(*mesospb.AgentInfo),
		Active:             proto.Bool(a.active),
		Version:            proto.String(version),
		Pid:                proto.String("slave(1)@" + a.addr.String()),
		RegisteredTime:     timeInfo(a.registered),
		TotalResources:     toProto(a.total, ""),
		AllocatedResources: toProto(used, ""),
		OfferedResources:   toProto(offered, ""),
	}
}

func (c *core) viewAgents() *masterpb.Response_GetAgents {
	out := &masterpb.Response_GetAgents{}
	for _, a := range c.sortedAgents() {
		out.Agents = append(out.Agents, c.viewAgent(a))
	}
	rec := make([]ids.AgentID, 0, len(c.recovered))
	for id := range c.recovered {
		rec = append(rec, id)
	}
	slices.Sort(rec)
	for _, id := range rec {
		out.RecoveredAgents = append(out.RecoveredAgents, proto.Clone(c.recovered[id]).(*mesospb.AgentInfo))
	}
	return out
}

// viewExecutors lists the executors frameworks launched on admitted agents.
func (c *core) viewExecutors() *masterpb.Response_GetExecutors {
	out := &masterpb.Response_GetExecutors{}
	for _, f := range c.sortedFrameworks() {
		aids := make([]ids.AgentID, 0, len(f.executors))
		for aid := range f.executors {
			aids = append(aids, aid)
		}
		slices.Sort(aids)
		for _, aid := range aids {
			if _, ok := c.agents[aid]; !ok {
				continue
			}
			eids := make([]string, 0, len(f.executors[aid]))
			for e := range f.executors[aid] {
				eids = append(eids, e)
			}
			slices.Sort(eids)
			for _, e := range eids {
				out.Executors = append(out.Executors, &masterpb.Response_GetExecutors_Executor{
					ExecutorInfo: proto.Clone(f.executors[aid][e]).(*mesospb.ExecutorInfo),
					AgentId:      agentIDpb(aid),
				})
			}
		}
	}
	return out
}

// viewRoles is GET_ROLES: every role the allocator tracks, with its weight,
// frameworks and allocated resources (offers included, as the allocator
// counts them), and, as in Mesos, roles known only by a weight or a quota.
func (c *core) viewRoles() *masterpb.Response_GetRoles {
	out := &masterpb.Response_GetRoles{}
	seen := map[string]bool{}
	for _, r := range c.alloc.Roles() {
		seen[r.Name] = true
		role := &mesospb.Role{Name: proto.String(r.Name), Weight: proto.Float64(r.Weight), Resources: toProto(r.Allocated, "")}
		for _, fid := range r.Frameworks {
			role.Frameworks = append(role.Frameworks, frameworkIDpb(fid))
		}
		out.Roles = append(out.Roles, role)
	}
	weights := c.alloc.Weights()
	extra := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		w, ok := weights[name]
		if !ok {
			w = 1
		}
		out.Roles = append(out.Roles, &mesospb.Role{Name: proto.String(name), Weight: proto.Float64(w)})
	}
	for name := range weights {
		extra(name)
	}
	for _, q := range c.alloc.Quotas() {
		extra(q.Role)
	}
	slices.SortFunc(out.Roles, func(a, b *mesospb.Role) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

func (c *core) viewFramework(f *framework, live bool) *masterpb.Response_GetFrameworks_Framework {
	used, offered := c.frameworkUse(f)
	out := &masterpb.Response_GetFrameworks_Framework{
		FrameworkInfo:      proto.Clone(f.info).(*mesospb.FrameworkInfo),
		Active:             proto.Bool(live && f.active),
		Connected:          proto.Bool(live && f.stream != ""),
		Recovered:          proto.Bool(false),
		RegisteredTime:     timeInfo(f.registered),
		ReregisteredTime:   timeInfo(f.reregistered),
		AllocatedResources: toProto(used, ""),
		OfferedResources:   toProto(offered, ""),
	}
	if f.stream == "" {
		out.UnregisteredTime = timeInfo(f.unregistered)
	}
	if live {
		for id := range f.offers {
			if o, ok := c.offers[id]; ok {
				out.Offers = append(out.Offers, proto.Clone(o.pb).(*mesospb.Offer))
			}
		}
	}
	return out
}

func (c *core) viewFrameworks() *masterpb.Response_GetFrameworks {
	out := &masterpb.Response_GetFrameworks{}
	for _, f := range c.sortedFrameworks() {
		out.Frameworks = append(out.Frameworks, c.viewFramework(f, true))
	}
	for _, f := range c.completed {
		out.CompletedFrameworks = append(out.CompletedFrameworks, c.viewFramework(f, false))
	}
	return out
}

func (c *core) viewTasks() *masterpb.Response_GetTasks {
	out := &masterpb.Response_GetTasks{}
	add := func(f *framework) {
		tids := make([]ids.TaskID, 0, len(f.tasks))
		for id := range f.tasks {
			tids = append(tids, id)
		}
		slices.Sort(tids)
		for _, id := range tids {
			t := f.tasks[id]
			pb := proto.Clone(t.pb).(*mesospb.Task)
			switch {
			case t.pb.GetState() == mesospb.TaskState_TASK_UNREACHABLE:
				out.UnreachableTasks = append(out.UnreachableTasks, pb)
			case isTerminal(t.pb.GetState()):
				out.CompletedTasks = append(out.CompletedTasks, pb)
			default:
				out.Tasks = append(out.Tasks, pb)
			}
		}
		for _, t := range f.completed {
			out.CompletedTasks = append(out.CompletedTasks, proto.Clone(t).(*mesospb.Task))
		}
	}
	for _, f := range c.sortedFrameworks() {
		add(f)
	}
	for _, f := range c.completed {
		add(f)
	}
	return out
}

func (c *core) viewState() *masterpb.Response_GetState {
	return &masterpb.Response_GetState{
		GetTasks:      c.viewTasks(),
		GetExecutors:  c.viewExecutors(),
		GetFrameworks: c.viewFrameworks(),
		GetAgents:     c.viewAgents(),
	}
}
