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
	// Total is everything the agent has, including what is in use.
	Total resources.Resources
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
	ag := &agent{
		id:       id,
		info:     info,
		active:   true,
		free:     info.Total,
		holdings: make(map[holder]resources.Resources),
		hasGPUs:  info.Total.Quantity("gpus") > 0,
	}
	a.agents[id] = ag
	ag.pos = len(a.agentOrder)
	a.agentOrder = append(a.agentOrder, id)
	a.orderDirty = true
	a.setTotal(a.total.Add(info.Total.ScalarQuantities()))
	for _, u := range used {
		a.track(u.Framework, u.Role, ag, u.Resources)
	}
	return nil
}

// UpdateAgent replaces an agent's total (its --resources changed, or an
// oversubscription estimate moved). What frameworks hold is unchanged; if it
// exceeds the new total the agent simply has nothing free.
func (a *Allocator) UpdateAgent(id ids.AgentID, info AgentInfo) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("update agent %s: unknown agent", id)
	}
	total := a.total.Subtract(ag.info.Total.ScalarQuantities()).Add(info.Total.ScalarQuantities())
	ag.info = info
	ag.free = info.Total.Subtract(ag.allocated)
	ag.hasGPUs = info.Total.Quantity("gpus") > 0
	a.setTotal(total)
	return nil
}

// RemoveAgent forgets an agent, everything held on it and every filter that
// names it. The master rescinds its offers and marks its tasks lost; it must
// not Recover them afterwards (such a Recover is ignored).
func (a *Allocator) RemoveAgent(id ids.AgentID) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("remove agent %s: unknown agent", id)
	}
	for h, res := range ag.holdings {
		a.untrack(h.fw, h.role, ag, res)
	}
	for _, f := range a.frameworks {
		a.filters.forget(f.dropFilters(func(k filterKey) bool { return k.agent == id }))
	}
	last := len(a.agentOrder) - 1
	moved := a.agentOrder[last]
	a.agentOrder[ag.pos] = moved
	a.agents[moved].pos = ag.pos
	a.agentOrder = a.agentOrder[:last]
	delete(a.agents, id)
	a.orderDirty = true
	a.setTotal(a.total.Subtract(ag.info.Total.ScalarQuantities()))
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

// visitOrder returns the agents in the order this allocation visits them.
func (a *Allocator) visitOrder() []ids.AgentID {
	if a.rng != nil {
		a.rng.Shuffle(len(a.agentOrder), func(i, j int) {
			a.agentOrder[i], a.agentOrder[j] = a.agentOrder[j], a.agentOrder[i]
		})
		// agentOrder changes only by append and swap-delete, never by map
		// iteration, so the result depends only on the seed and the calls.
		a.reindex()
		return a.agentOrder
	}
	if a.orderDirty {
		slices.Sort(a.agentOrder)
		a.reindex()
		a.orderDirty = false
	}
	return a.agentOrder
}

// reindex records each agent's position in agentOrder, which RemoveAgent
// uses to delete in O(1).
func (a *Allocator) reindex() {
	for i, id := range a.agentOrder {
		a.agents[id].pos = i
	}
}
