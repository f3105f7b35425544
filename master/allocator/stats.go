package allocator

import (
	"cmp"
	"maps"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// Stats are the allocator-wide figures for /metrics/snapshot and /state.
// Allocated counts offers and tasks alike: the allocator does not know
// which of what it handed out was accepted (the master does).
type Stats struct {
	AllocationRuns uint64 // allocator/mesos/allocation_runs
	// OffersMade counts the allocations Allocate returned, ever; LastRound
	// those of the last run.
	OffersMade                   uint64
	LastRound                    int
	Agents, ActiveAgents         int
	Frameworks, ActiveFrameworks int
	// Filters counts live offer filters (expired ones are dropped at the
	// start of each Allocate).
	Filters int
	// Total and Allocated are scalar quantities summed over agents: ranges
	// of different agents do not add up.
	Total, Allocated resources.Resources
}

// Stats returns the current figures. It costs O(agents + roles).
func (a *Allocator) Stats() Stats {
	s := Stats{
		AllocationRuns: a.runs,
		OffersMade:     a.offersMade,
		LastRound:      a.lastOffers,
		Agents:         len(a.agents),
		Frameworks:     len(a.frameworks),
		Filters:        a.nfilters,
		Total:          a.names.resources(a.total),
	}
	for _, ag := range a.agentOrder {
		if ag.active {
			s.ActiveAgents++
		}
	}
	var alloc qvec
	for _, n := range a.roles {
		if n.parent == a.root {
			alloc.add(n.client.alloc)
		}
	}
	s.Allocated = a.names.resources(alloc)
	for _, f := range a.frameworks {
		if f.active {
			s.ActiveFrameworks++
		}
	}
	return s
}

// RoleStatus describes one role (/roles, GET_ROLES, `cairn roles`, the
// allocator/mesos/roles/<role>/... metrics). Figures are for the role's
// whole subtree, as the role sorter sees it.
type RoleStatus struct {
	Name   string
	Weight float64
	// Allocated is what the subtree holds (offered or in use), scalar
	// quantities; Share its dominant share of the cluster (unweighted:
	// the allocator/mesos/roles/<role>/shares/dominant metric).
	Allocated resources.Resources
	Share     float64
	// Reserved is what agents reserve for exactly this role.
	Reserved resources.Resources
	// Quota is the role's own configuration (nil without), and Consumed
	// its consumption by Mesos's rule: unreserved allocations plus every
	// reservation of the subtree.
	Quota      *QuotaConfig
	Consumed   resources.Resources
	Frameworks []ids.FrameworkID // subscribed, sorted
	Filters    int               // live offer filters of its frameworks for this role
}

// Roles returns every tracked role, sorted by name.
func (a *Allocator) Roles() []RoleStatus {
	out := make([]RoleStatus, 0, len(a.roles))
	for _, name := range slices.Sorted(maps.Keys(a.roles)) {
		out = append(out, a.roleStatus(a.roles[name]))
	}
	return out
}

// Role returns one role's status, and false when the role is not tracked.
func (a *Allocator) Role(name string) (RoleStatus, bool) {
	n, ok := a.roles[name]
	if !ok {
		return RoleStatus{}, false
	}
	return a.roleStatus(n), true
}

func (a *Allocator) roleStatus(n *roleNode) RoleStatus {
	st := RoleStatus{
		Name:      n.name,
		Weight:    n.client.weight,
		Allocated: a.names.resources(n.client.alloc),
		Share:     dominantShare(n.client.alloc, a.total),
		Reserved:  a.names.resources(n.reserved),
		Consumed:  a.names.resources(n.consumed),
	}
	if n.quota != nil {
		c := n.quota.cfg
		st.Quota = &QuotaConfig{Role: c.Role, Guarantees: maps.Clone(c.Guarantees), Limits: maps.Clone(c.Limits)}
	}
	for _, s := range n.members {
		if s.subscribed {
			st.Frameworks = append(st.Frameworks, s.fw.id)
		}
		st.Filters += s.nfilters
	}
	slices.Sort(st.Frameworks)
	return st
}

// FrameworkStatus describes one framework as the allocator sees it.
type FrameworkStatus struct {
	Active     bool
	Roles      []string // subscribed, sorted
	Suppressed []string // sorted
	// Allocated (scalar quantities) and Shares (dominant share of the
	// cluster, unweighted) are by role, including roles it left but still
	// holds resources under.
	Allocated map[string]resources.Resources
	Shares    map[string]float64
	Filters   int // live offer filters
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
		Allocated: make(map[string]resources.Resources, len(f.subs)),
		Shares:    make(map[string]float64, len(f.subs)),
		Filters:   f.nfilters,
	}
	for role, s := range f.subs {
		if s.suppressed && s.subscribed {
			st.Suppressed = append(st.Suppressed, role)
		}
		if !s.client.alloc.isZero() {
			st.Allocated[role] = a.names.resources(s.client.alloc)
		}
		st.Shares[role] = dominantShare(s.client.alloc, a.total)
	}
	slices.Sort(st.Suppressed)
	return st, true
}

// FilterCounts returns the live offer filters of every framework that has
// any (the per-framework filter metric).
func (a *Allocator) FilterCounts() map[ids.FrameworkID]int {
	out := make(map[ids.FrameworkID]int)
	for id, f := range a.frameworks {
		if f.nfilters > 0 {
			out[id] = f.nfilters
		}
	}
	return out
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
	for _, h := range ag.holdings {
		st.Holdings = append(st.Holdings, Allocation{Framework: h.fw, Agent: id, Role: h.role, Resources: h.res})
	}
	slices.SortFunc(st.Holdings, func(x, y Allocation) int {
		return cmp.Or(cmp.Compare(x.Framework, y.Framework), cmp.Compare(x.Role, y.Role))
	})
	return st, true
}
