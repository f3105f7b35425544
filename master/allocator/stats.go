package allocator

import (
	"cmp"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// Stats are the allocator-wide figures for /metrics/snapshot and /state.
type Stats struct {
	AllocationRuns               uint64 // allocator/mesos/allocation_runs
	Agents, ActiveAgents         int
	Frameworks, ActiveFrameworks int
	// Filters counts offer filters, as of the last Allocate: expired ones
	// are dropped there.
	Filters int
	// Total and Allocated (offered or in use) are scalar quantities summed
	// over agents: ranges of different agents do not add up.
	Total, Allocated resources.Resources
}

// Stats returns the current figures.
func (a *Allocator) Stats() Stats {
	s := Stats{
		AllocationRuns: a.runs,
		Agents:         len(a.agents),
		Frameworks:     len(a.frameworks),
		Filters:        a.filters.count,
		Total:          a.total,
	}
	for _, ag := range a.agents {
		if ag.active {
			s.ActiveAgents++
		}
		s.Allocated = s.Allocated.Add(ag.allocated.ScalarQuantities())
	}
	for _, f := range a.frameworks {
		if f.active {
			s.ActiveFrameworks++
		}
	}
	return s
}

// RoleStatus describes one role (/roles, GET_ROLES, the
// allocator/mesos/roles/<role>/shares/dominant metric).
type RoleStatus struct {
	Name       string
	Allocated  resources.Resources
	Share      float64           // by the role sorter's measure
	Frameworks []ids.FrameworkID // subscribed, sorted
	Filters    int               // offer filters of its frameworks for this role
}

// Roles returns every tracked role, sorted by name.
func (a *Allocator) Roles() []RoleStatus {
	out := make([]RoleStatus, 0, len(a.roles))
	for name, r := range a.roles {
		st := RoleStatus{Name: name, Allocated: r.allocated, Share: a.roleSorter.Share(name)}
		for fw := range r.subscribers {
			st.Frameworks = append(st.Frameworks, fw)
			for k, fs := range a.frameworks[fw].filters {
				if k.role == name {
					st.Filters += len(fs)
				}
			}
		}
		slices.Sort(st.Frameworks)
		out = append(out, st)
	}
	slices.SortFunc(out, func(x, y RoleStatus) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// FrameworkStatus describes one framework as the allocator sees it.
type FrameworkStatus struct {
	Active     bool
	Roles      []string // subscribed, sorted
	Suppressed []string // sorted
	// Allocated (scalar quantities) and Shares are by role, including roles
	// it left but still holds resources under; a share is the framework's
	// within its role.
	Allocated map[string]resources.Resources
	Shares    map[string]float64
	Filters   int
}

// Framework returns what the allocator knows of framework id.
func (a *Allocator) Framework(id ids.FrameworkID) (FrameworkStatus, bool) {
	f, ok := a.frameworks[id]
	if !ok {
		return FrameworkStatus{}, false
	}
	st := FrameworkStatus{
		Active:    f.active,
		Roles:     slices.Clone(f.roles),
		Allocated: make(map[string]resources.Resources, len(f.allocated)),
		Shares:    make(map[string]float64),
		Filters:   f.nfilters,
	}
	for role := range f.suppressed {
		st.Suppressed = append(st.Suppressed, role)
	}
	slices.Sort(st.Suppressed)
	for role, res := range f.allocated {
		st.Allocated[role] = res
	}
	for name, r := range a.roles {
		if r.sorter.Has(id) {
			st.Shares[name] = r.sorter.Share(id)
		}
	}
	return st, true
}

// AgentStatus describes one agent as the allocator sees it.
type AgentStatus struct {
	Info      AgentInfo
	Active    bool
	Allocated resources.Resources
	Free      resources.Resources
	Holdings  []Allocation // sorted by framework, then role
}

// Agent returns what the allocator knows of agent id.
func (a *Allocator) Agent(id ids.AgentID) (AgentStatus, bool) {
	ag, ok := a.agents[id]
	if !ok {
		return AgentStatus{}, false
	}
	st := AgentStatus{Info: ag.info, Active: ag.active, Allocated: ag.allocated, Free: ag.free}
	for h, res := range ag.holdings {
		st.Holdings = append(st.Holdings, Allocation{Framework: h.fw, Agent: id, Role: h.role, Resources: res})
	}
	slices.SortFunc(st.Holdings, func(x, y Allocation) int {
		return cmp.Or(cmp.Compare(x.Framework, y.Framework), cmp.Compare(x.Role, y.Role))
	})
	return st, true
}
