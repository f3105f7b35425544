package allocator

import (
	"maps"
	"slices"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// reference is a deliberately naive allocator for the property test: no
// indexes, no incremental sorting, no caches. Every decision recomputes
// shares from the holdings, so it is slow and obviously right, and the real
// allocator must make exactly the same decisions.
type reference struct {
	interval   time.Duration
	min        []resources.Resources
	agents     map[ids.AgentID]*refAgent
	frameworks map[ids.FrameworkID]*refFramework
}

type refAgent struct {
	total    resources.Resources
	active   bool
	gpus     bool
	holdings map[holder]resources.Resources
}

type refFramework struct {
	roles      []string
	suppressed map[string]bool
	active     bool
	gpu        bool
	filters    []refFilter
}

type refFilter struct {
	role    string
	agent   ids.AgentID
	refused resources.Resources
	expires time.Time
}

func newReference(interval time.Duration) *reference {
	return &reference{
		interval:   interval,
		min:        DefaultMinAllocatable(),
		agents:     map[ids.AgentID]*refAgent{},
		frameworks: map[ids.FrameworkID]*refFramework{},
	}
}

func (r *reference) free(ag *refAgent) resources.Resources {
	used := resources.Resources{}
	for _, res := range ag.holdings {
		used = used.Add(res)
	}
	return ag.total.Subtract(used)
}

func (r *reference) total() resources.Resources {
	t := resources.Resources{}
	for _, ag := range r.agents {
		t = t.Add(ag.total)
	}
	return t
}

func refShare(alloc, total resources.Resources) float64 {
	var best float64
	for t := range total.ScalarQuantities().All() {
		if sh := float64(alloc.Quantity(t.Name)) / float64(t.Scalar); sh > best {
			best = sh
		}
	}
	return best
}

// held sums, over all agents, what match selects.
func (r *reference) held(match func(holder) bool) resources.Resources {
	sum := resources.Resources{}
	for _, ag := range r.agents {
		for h, res := range ag.holdings {
			if match(h) {
				sum = sum.Add(res.ScalarQuantities())
			}
		}
	}
	return sum
}

func (r *reference) roleShare(role string) float64 {
	return refShare(r.held(func(h holder) bool { return h.role == role }), r.total())
}

func (r *reference) frameworkShare(fw ids.FrameworkID, role string) float64 {
	return refShare(r.held(func(h holder) bool { return h.fw == fw && h.role == role }), r.total())
}

// roles are those some framework subscribes to or something is held under.
func (r *reference) roles() []string {
	set := map[string]bool{}
	for _, f := range r.frameworks {
		for _, role := range f.roles {
			set[role] = true
		}
	}
	for _, ag := range r.agents {
		for h := range ag.holdings {
			set[h.role] = true
		}
	}
	roles := slices.Collect(maps.Keys(set))
	slices.SortFunc(roles, func(a, b string) int {
		return cmpShare(r.roleShare(a), r.roleShare(b), a, b)
	})
	return roles
}

// frameworksOf are the added frameworks competing in role, in DRF order.
func (r *reference) frameworksOf(role string) []ids.FrameworkID {
	var out []ids.FrameworkID
	for id, f := range r.frameworks {
		if slices.Contains(f.roles, role) || r.holdsAny(id, role) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b ids.FrameworkID) int {
		return cmpShare(r.frameworkShare(a, role), r.frameworkShare(b, role), a, b)
	})
	return out
}

func (r *reference) holdsAny(fw ids.FrameworkID, role string) bool {
	for _, ag := range r.agents {
		if _, ok := ag.holdings[holder{fw, role}]; ok {
			return true
		}
	}
	return false
}

func (r *reference) allocatable(avail resources.Resources) bool {
	if avail.IsEmpty() {
		return false
	}
	for _, m := range r.min {
		if avail.ScalarQuantities().Contains(m) {
			return true
		}
	}
	return false
}

// candidate reports whether fw could take avail of agent id under role now.
func (r *reference) candidate(fw ids.FrameworkID, role string, id ids.AgentID, avail resources.Resources, now time.Time) bool {
	f, ag := r.frameworks[fw], r.agents[id]
	if !f.active || f.suppressed[role] || !slices.Contains(f.roles, role) || (ag.gpus && !f.gpu) {
		return false
	}
	for _, flt := range f.filters {
		if flt.role == role && flt.agent == id && now.Before(flt.expires) && flt.refused.Contains(avail) {
			return false
		}
	}
	return true
}

func (r *reference) allocate(now time.Time) []Allocation {
	var out []Allocation
	for _, id := range slices.Sorted(maps.Keys(r.agents)) {
		ag := r.agents[id]
		if !ag.active {
			continue
		}
		for _, role := range r.roles() {
			avail := r.free(ag).AllocatableTo(role)
			if !r.allocatable(avail) {
				continue
			}
			for _, fw := range r.frameworksOf(role) {
				if r.candidate(fw, role, id, avail, now) {
					out = append(out, Allocation{Framework: fw, Agent: id, Role: role, Resources: avail})
					h := holder{fw, role}
					ag.holdings[h] = ag.holdings[h].Add(avail)
					break
				}
			}
		}
	}
	return out
}

func (r *reference) recover(al Allocation, f *Filter, now time.Time) {
	ag := r.agents[al.Agent]
	h := holder{al.Framework, al.Role}
	if left := ag.holdings[h].Subtract(al.Resources); left.IsEmpty() {
		delete(ag.holdings, h)
	} else {
		ag.holdings[h] = left
	}
	if f == nil || al.Resources.IsEmpty() {
		return
	}
	d := f.duration()
	if d == 0 {
		return
	}
	fw := r.frameworks[al.Framework]
	if fw == nil || !slices.Contains(fw.roles, al.Role) {
		return
	}
	fw.filters = append(fw.filters, refFilter{al.Role, al.Agent, al.Resources, now.Add(max(d, r.interval))})
}

func (r *reference) dropFilters(fw ids.FrameworkID, match func(refFilter) bool) {
	f := r.frameworks[fw]
	f.filters = slices.DeleteFunc(f.filters, match)
}
