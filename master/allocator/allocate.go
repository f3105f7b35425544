package allocator

import (
	"fmt"
	"time"

	"github.com/cairnhq/cairn/resources"
)

// Allocate runs one allocation: for each active agent (in id order, or a
// seeded shuffle), roles in role-sorter order, frameworks of each role in
// framework-sorter order, the agent's free resources that the role may use
// go whole to the first framework that is active, subscribed to the role,
// not suppressed for it, allowed on the agent and not filtered. Allocations
// count as held at once, so the next agent goes to the next-neediest
// framework. now decides which filters are still in force (and expired ones
// are dropped); nothing else depends on it.
func (a *Allocator) Allocate(now time.Time) []Allocation {
	a.runs++
	a.expireFilters(now)
	var out []Allocation
	var roleBuf []string
	for _, id := range a.visitOrder() {
		ag := a.agents[id]
		if !ag.active || ag.free.IsEmpty() {
			continue
		}
		// Copied: tracking an allocation may re-sort the roles.
		roleBuf = append(roleBuf[:0], a.roleSorter.Sort()...)
		for _, roleName := range roleBuf {
			avail := ag.free.AllocatableTo(roleName)
			if !a.allocatable(avail) {
				continue
			}
			for _, fwID := range a.roles[roleName].sorter.Sort() {
				f := a.frameworks[fwID]
				if !f.eligible(roleName, ag) || f.filtered(roleName, id, avail, now) {
					continue
				}
				out = append(out, Allocation{Framework: fwID, Agent: id, Role: roleName, Resources: avail})
				a.track(fwID, roleName, ag, avail)
				break
			}
			if ag.free.IsEmpty() {
				break
			}
		}
	}
	return out
}

// eligible reports whether f may be offered resources of ag under role at
// all, filters aside.
func (f *framework) eligible(role string, ag *agent) bool {
	return f.active && !f.suppressed[role] && f.subscribes(role) &&
		(!ag.hasGPUs || f.caps.GPUResources)
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
	held, holds := ag.holdings[holder{al.Framework, role}]
	if !holds && f == nil {
		return nil
	}
	if !held.Contains(al.Resources) {
		return fmt.Errorf("recover %s of framework %s on agent %s role %q: holds only %q",
			al.Resources, al.Framework, al.Agent, role, held)
	}
	a.untrack(al.Framework, role, ag, al.Resources)
	if filter != nil && f != nil && f.subscribes(role) {
		a.addFilter(f, role, al.Agent, al.Resources, *filter, now)
	}
	return nil
}
