package allocator

import (
	"fmt"
	"time"

	"github.com/cairnhq/cairn/resources"
)

// Allocate runs one allocation round and returns the allocations, at most
// one per (framework, role, agent); each counts as held at once. now
// decides which filters are still in force (expired ones are dropped);
// nothing else depends on it.
//
// Agents are visited in id order (or a seeded shuffle). For each agent,
// roles are taken in the role policy's order (a depth-first walk of the
// role tree, each level sorted) and, within a role, frameworks in the
// framework policy's order; what the role may have of the agent goes whole
// to the first framework that is active, subscribed, not suppressed for the
// role, allowed on the agent and not filtered. The orders are those at the
// start of the agent's visit; its allocations move its roles and
// frameworks back for the next agent.
//
// With quota, two passes run, as in Mesos: the first over all agents serves
// only roles whose guarantees are unmet, cutting unreserved scalars down to
// what the guarantees still need; the second serves everyone, never past a
// limit and never into the headroom the unmet guarantees of other roles
// still need.
func (a *Allocator) Allocate(now time.Time) []Allocation {
	a.runs++
	a.expireFilters(now)
	size := a.lastOffers + a.lastOffers/8 + 16
	if a.runs == 1 {
		size = len(a.agentOrder)
	}
	r := round{a: a, out: make([]Allocation, 0, size)}
	order := a.visitOrder()
	if len(a.quotas) > 0 {
		r.quota = a.newQuotaRound()
		if a.anyNeeds() {
			r.stage, r.merged = 1, make(map[offerKey]int)
			for _, ag := range order {
				if ag.active && !ag.free.IsEmpty() {
					r.visit(ag)
				}
			}
		}
	}
	r.stage = 2
	for _, ag := range order {
		if ag.active && !ag.free.IsEmpty() {
			r.visit(ag)
		}
	}
	a.lastOffers = len(r.out)
	a.offersMade += uint64(len(r.out))
	return r.out
}

// round is one Allocate's working state.
type round struct {
	a      *Allocator
	stage  int // 1: guarantees, 2: everyone
	out    []Allocation
	quota  *quotaRound      // nil without quota
	merged map[offerKey]int // stage-1 allocations, which stage 2 adds to
}

type offerKey struct {
	s  *sub
	ag *agent
}

func (r *round) visit(ag *agent) {
	a := r.a
	a.refreshCovers(ag)
	// Without quota or reservations every role may have the agent's whole
	// free resources; only then can the minimum be checked once.
	simple := r.quota == nil && !ag.reserved
	if simple && !a.allocatableFree(ag) {
		return
	}
	for _, rc := range a.roleOrder() {
		n := rc.node
		if n.offerable == 0 || (r.stage == 1 && !a.needs(n)) {
			continue
		}
		cand, whole := ag.free, true
		if !simple {
			cand, whole = r.candidate(ag, n)
			if !a.allocatable(cand) {
				continue
			}
		}
		s := a.pick(ag, n, cand)
		if s == nil {
			continue
		}
		r.grant(s, ag, cand, whole)
		if ag.free.IsEmpty() {
			return
		}
	}
}

// pick returns the first framework of n, in policy order, that may take
// cand on ag.
func (a *Allocator) pick(ag *agent, n *roleNode, cand resources.Resources) *sub {
	gpus := ag.hasGPUs
	for _, c := range a.sortFrameworks(n) {
		s := c.sub
		if gpus && !s.fw.caps.GPUResources {
			continue
		}
		if a.filtered(ag, s, cand) {
			continue
		}
		return s
	}
	return nil
}

func (r *round) grant(s *sub, ag *agent, res resources.Resources, whole bool) {
	a := r.a
	a.trackIn(s.fw.id, s.node, s, ag, res, whole)
	if r.quota != nil {
		r.quota.granted(a, res)
	}
	key := offerKey{s, ag}
	if r.merged != nil {
		if i, ok := r.merged[key]; ok {
			r.out[i].Resources = r.out[i].Resources.Add(res)
			return
		}
		if r.stage == 1 {
			r.merged[key] = len(r.out)
		}
	}
	r.out = append(r.out, Allocation{Framework: s.fw.id, Agent: ag.id, Role: s.node.name, Resources: res})
}

// candidate is what role n may be offered of ag now, and whether that is
// all of ag's free resources.
func (r *round) candidate(ag *agent, n *roleNode) (resources.Resources, bool) {
	cand := ag.free
	if ag.reserved {
		cand = cand.AllocatableTo(n.name)
	}
	whole := cand.Len() == ag.free.Len()
	if r.quota == nil {
		return cand, whole
	}
	capped := r.quota.cap(r.a, n, cand, r.stage)
	return capped, whole && capped.Len() == cand.Len() && capped.Equal(cand)
}

// allocatableFree is allocatable(ag.free), remembered while free stays the
// value it was computed for.
func (a *Allocator) allocatableFree(ag *agent) bool {
	c := &ag.cache
	if !ag.free.Same(c.free) || ag.free.IsEmpty() {
		return a.allocatable(ag.free)
	}
	if c.allocatable == 0 {
		c.allocatable = 2
		if a.allocatable(ag.free) {
			c.allocatable = 1
		}
	}
	return c.allocatable == 1
}

// allocatable applies --min_allocatable_resources: avail must contain at
// least one of the minimum quantities, so that frameworks are not offered
// crumbs they cannot use.
func (a *Allocator) allocatable(avail resources.Resources) bool {
	if avail.IsEmpty() {
		return false
	}
	if len(a.minAllocatable) == 0 {
		return true
	}
	for _, m := range a.minAllocatable {
		ok := true
		for r := range m.All() {
			if avail.Quantity(r.Name) < r.Scalar {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Recover gives back resources a framework held: a declined or rescinded
// offer, the unused part of an accepted one, a finished task. al.Role may be
// empty for a framework with a single role. With a filter (a decline or an
// accept's leftovers), the same agent's resources are kept from the
// framework's role for the filter's duration, as long as what would be
// offered is contained in what was refused.
//
// Resources of a removed agent or framework are already back and are
// ignored; recovering more than is held is an error and changes nothing.
func (a *Allocator) Recover(al Allocation, filter *Filter, now time.Time) error {
	ag, ok := a.agents[al.Agent]
	if !ok {
		return nil
	}
	f := a.frameworks[al.Framework]
	role := al.Role
	if role == "" && f != nil {
		if len(f.roles) != 1 {
			return fmt.Errorf("recover for framework %s: name the role, it has %d", al.Framework, len(f.roles))
		}
		role = f.roles[0]
	}
	held, holds := ag.holdings.get(holder{al.Framework, role})
	if !holds && f == nil {
		return nil
	}
	if !held.Contains(al.Resources) {
		return fmt.Errorf("recover %s of framework %s on agent %s role %q: holds only %q",
			al.Resources, al.Framework, al.Agent, role, held)
	}
	a.untrack(al.Framework, role, ag, al.Resources)
	if filter != nil && f != nil {
		if s := f.subs[role]; s != nil && s.subscribed {
			a.addFilter(s, ag, al.Resources, *filter, now)
		}
	}
	return nil
}
