package allocator

import (
	"fmt"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// AgentInfo is what the allocator needs to know of an agent.
type AgentInfo struct {
	Hostname string
	// Total is everything the agent has, including what is in use and what
	// is reserved (statically, "cpus(eng):2", or dynamically).
	Total resources.Resources
}

type agent struct {
	id     ids.AgentID
	slot   int32 // index in Allocator.agentSlots, for pointer-free filter queues
	info   AgentInfo
	active bool
	// allocated is the sum of holdings; free is info.Total − allocated,
	// floored at zero, and fits says allocated lies within the total.
	// freeGen counts changes of free, so that the filter index knows when
	// to look again. cache keeps the last subtraction: an agent whose offer
	// comes back is where it was before, and needs no computing.
	allocated resources.Resources
	free      resources.Resources
	fits      bool
	freeGen   uint64
	cache     freeCache
	holdings  holdingList // starts in holdBuf: most agents have one or two
	holdBuf   [2]holding
	hasGPUs   bool
	reserved  bool         // Total has reserved resources
	resv      []roleQty    // reserved scalars of Total, by role
	pos       int          // index in Allocator.agentOrder
	filters   agentFilters // empty (live 0) while no filter names this agent
}

type roleQty struct {
	role string
	q    qvec
}

type freeCache struct {
	allocated, free resources.Resources
	fits            bool
	q, u            qvec // free's scalar quantities, all and unreserved; nil until needed
	uses            int
	allocatable     int8 // free passes --min_allocatable_resources: 0 unknown, 1 yes, 2 no
}

// refreshFree recomputes free after allocated changed.
func (ag *agent) refreshFree() {
	if !ag.allocated.Same(ag.cache.allocated) {
		ag.computeFree()
		return
	}
	ag.free, ag.fits = ag.cache.free, ag.cache.fits
	ag.freeGen++
}

// computeFree recomputes free, also after the total changed.
func (ag *agent) computeFree() {
	ag.free = ag.info.Total.Subtract(ag.allocated)
	ag.fits = ag.info.Total.Contains(ag.allocated)
	ag.cache = freeCache{allocated: ag.allocated, free: ag.free, fits: ag.fits}
	ag.freeGen++
}

// allocateAll records that all of ag's free resources are now held too.
func (ag *agent) allocateAll() {
	if ag.fits {
		// allocated + (total − allocated) is the total when allocated
		// fits: no need to add.
		ag.allocated = ag.info.Total
	} else {
		ag.allocated = ag.allocated.Add(ag.free)
	}
	ag.free = resources.Resources{}
	ag.freeGen++
}

// AddAgent adds an active agent. used lists what frameworks already hold on
// it (tasks that survived a master failover); their Agent field may be left
// empty. Holdings of frameworks that are not added yet still reduce the
// agent's free resources and count for their role; the framework picks them
// up when it is added.
func (a *Allocator) AddAgent(id ids.AgentID, info AgentInfo, used []Allocation) error {
	if _, ok := a.agents[id]; ok {
		return fmt.Errorf("add agent %s: already added", id)
	}
	for _, u := range used {
		if u.Agent != "" && u.Agent != id {
			return fmt.Errorf("add agent %s: used resources of agent %s", id, u.Agent)
		}
		if err := resources.ValidateRole(u.Role); err != nil {
			return fmt.Errorf("add agent %s: used resources of %s: %w", id, u.Framework, err)
		}
	}
	ag := &agent{id: id, info: info, active: true}
	ag.holdings = ag.holdBuf[:0]
	ag.computeFree()
	if n := len(a.freeAgentSlots); n > 0 {
		ag.slot = a.freeAgentSlots[n-1]
		a.freeAgentSlots = a.freeAgentSlots[:n-1]
		a.agentSlots[ag.slot] = ag
	} else {
		ag.slot = int32(len(a.agentSlots))
		a.agentSlots = append(a.agentSlots, ag)
	}
	a.agents[id] = ag
	ag.pos = len(a.agentOrder)
	a.agentOrder = append(a.agentOrder, ag)
	a.orderDirty = true
	a.setAgentTotal(ag, info.Total, +1)
	for _, u := range used {
		a.track(u.Framework, u.Role, ag, u.Resources)
	}
	return nil
}

// setAgentTotal adds (sign +1) or removes (−1) ag's total to the cluster
// pool and its reservations to their roles.
func (a *Allocator) setAgentTotal(ag *agent, total resources.Resources, sign resources.Fixed) {
	if sign > 0 {
		ag.info.Total = total
		ag.hasGPUs = total.Quantity("gpus") > 0
		ag.reserved = total.HasReserved()
		ag.resv = nil
		for r := range total.All() {
			if r.Role == resources.Unreserved {
				continue
			}
			i := slices.IndexFunc(ag.resv, func(x roleQty) bool { return x.role == r.Role })
			if i < 0 {
				i = len(ag.resv)
				ag.resv = append(ag.resv, roleQty{role: r.Role})
			}
			if r.Type == resources.Scalar {
				idx := a.names.id(r.Name)
				ag.resv[i].q.grow(idx + 1)
				ag.resv[i].q[idx] += r.Scalar
			}
		}
	}
	// A new vector, never changed in place: sorters keep the old one, and
	// the positions computed with it, until they are told of the new one.
	t := a.total.clone()
	a.names.addRes(&t, total, sign, nil)
	a.total = t
	a.totalGen++
	for _, rq := range ag.resv {
		n := a.ensureRole(rq.role)
		n.reservations += int(sign)
		if sign > 0 {
			n.reserved.add(rq.q)
			a.addConsumed(n, rq.q, +1)
		} else {
			n.reserved.sub(rq.q)
			a.addConsumed(n, rq.q, -1)
			a.maybeDropRole(n)
		}
	}
}

// UpdateAgent replaces an agent's total (its --resources changed, or an
// oversubscription estimate moved). What frameworks hold is unchanged; if it
// exceeds the new total the agent simply has nothing free. As in Mesos, a
// changed total drops the offer filters that name the agent: what was
// refused is no longer what would be offered.
func (a *Allocator) UpdateAgent(id ids.AgentID, info AgentInfo) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("update agent %s: unknown agent", id)
	}
	changed := !info.Total.Equal(ag.info.Total)
	a.replaceTotal(ag, info.Total)
	ag.info.Hostname = info.Hostname
	if changed {
		a.dropAgentFilters(ag)
	}
	return nil
}

// replaceTotal swaps ag's total, keeping its holdings.
func (a *Allocator) replaceTotal(ag *agent, total resources.Resources) {
	a.setAgentTotal(ag, ag.info.Total, -1)
	a.setAgentTotal(ag, total, +1)
	ag.computeFree()
}

// RemoveAgent forgets an agent, everything held on it and every filter that
// names it. The master rescinds its offers and marks its tasks lost; it must
// not Recover them afterwards (such a Recover is ignored).
func (a *Allocator) RemoveAgent(id ids.AgentID) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("remove agent %s: unknown agent", id)
	}
	for len(ag.holdings) > 0 {
		h := ag.holdings[0]
		a.untrack(h.fw, h.role, ag, h.res)
	}
	a.dropAgentFilters(ag)
	a.setAgentTotal(ag, ag.info.Total, -1)
	last := len(a.agentOrder) - 1
	moved := a.agentOrder[last]
	a.agentOrder[ag.pos] = moved
	moved.pos = ag.pos
	a.agentOrder = a.agentOrder[:last]
	a.agentSlots[ag.slot] = nil
	a.freeAgentSlots = append(a.freeAgentSlots, ag.slot)
	delete(a.agents, id)
	a.orderDirty = true
	return nil
}

// DeactivateAgent stops offering an agent's resources (it is unreachable or
// draining) while keeping it, and what is held on it, in the totals.
func (a *Allocator) DeactivateAgent(id ids.AgentID) error {
	return a.setAgentActive(id, false)
}

// ActivateAgent makes a deactivated agent's free resources offerable again.
func (a *Allocator) ActivateAgent(id ids.AgentID) error {
	return a.setAgentActive(id, true)
}

func (a *Allocator) setAgentActive(id ids.AgentID, active bool) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("set agent %s active=%v: unknown agent", id, active)
	}
	ag.active = active
	return nil
}

// visitOrder returns the agents in the order this allocation visits them:
// a fresh seeded shuffle with Config.Shuffle, id order otherwise.
func (a *Allocator) visitOrder() []*agent {
	if a.rng != nil {
		// agentOrder changes only by append and swap-delete, never by map
		// iteration, so the result depends only on the seed and the calls.
		a.rng.Shuffle(len(a.agentOrder), func(i, j int) {
			a.agentOrder[i], a.agentOrder[j] = a.agentOrder[j], a.agentOrder[i]
		})
		a.reindex()
		return a.agentOrder
	}
	if a.orderDirty {
		slices.SortFunc(a.agentOrder, func(x, y *agent) int { return cmpString(string(x.id), string(y.id)) })
		a.reindex()
		a.orderDirty = false
	}
	return a.agentOrder
}

// reindex records each agent's position, which RemoveAgent uses to delete
// in O(1).
func (a *Allocator) reindex() {
	for i, ag := range a.agentOrder {
		ag.pos = i
	}
}

func cmpString(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
