package allocator

import (
	"fmt"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// checkInvariants recomputes every derived figure of a from the agents'
// holdings, the one source of truth, and reports the first disagreement.
// Scripts and the property test run it after every event.
func checkInvariants(a *Allocator) error {
	var total resources.Resources
	roleAlloc := map[string]resources.Resources{}
	roleHeld := map[string]int{}
	type fr struct {
		fw   ids.FrameworkID
		role string
	}
	fwAlloc := map[fr]resources.Resources{}
	fwHeld := map[fr]int{}
	for id, ag := range a.agents {
		total = total.Add(ag.info.Total.ScalarQuantities())
		var sum resources.Resources
		for h, res := range ag.holdings {
			if res.IsEmpty() {
				return fmt.Errorf("agent %s: empty holding for %v", id, h)
			}
			sum = sum.Add(res)
			q := res.ScalarQuantities()
			roleAlloc[h.role] = roleAlloc[h.role].Add(q)
			roleHeld[h.role]++
			fwAlloc[fr{h.fw, h.role}] = fwAlloc[fr{h.fw, h.role}].Add(q)
			fwHeld[fr{h.fw, h.role}]++
			if _, ok := a.holders[h.fw][id]; !ok {
				return fmt.Errorf("agent %s: holding of %s missing from the index", id, h.fw)
			}
		}
		if !sum.Equal(ag.allocated) {
			return fmt.Errorf("agent %s: allocated %q, holdings add up to %q", id, ag.allocated, sum)
		}
		if free := ag.info.Total.Subtract(ag.allocated); !free.Equal(ag.free) {
			return fmt.Errorf("agent %s: free %q, want %q", id, ag.free, free)
		}
	}
	if len(a.agentOrder) != len(a.agents) {
		return fmt.Errorf("%d agents in the visit order, %d known", len(a.agentOrder), len(a.agents))
	}
	for i, id := range a.agentOrder {
		if ag, ok := a.agents[id]; !ok || ag.pos != i {
			return fmt.Errorf("agent %s at %d in the visit order, recorded position wrong", id, i)
		}
	}
	if !total.Equal(a.total) {
		return fmt.Errorf("total %q, agents add up to %q", a.total, total)
	}
	for fw, agents := range a.holders {
		for id := range agents {
			ag, ok := a.agents[id]
			if !ok || !a.holdsOn(fw, ag) {
				return fmt.Errorf("index says %s holds on %s, it does not", fw, id)
			}
		}
	}
	for name, r := range a.roles {
		if !r.allocated.Equal(roleAlloc[name]) || !a.roleSorter.Allocation(name).Equal(roleAlloc[name]) || r.held != roleHeld[name] {
			return fmt.Errorf("role %s: allocated %q (sorter %q), held %d; holdings say %q, %d",
				name, r.allocated, a.roleSorter.Allocation(name), r.held, roleAlloc[name], roleHeld[name])
		}
		if len(r.subscribers) == 0 && r.held == 0 {
			return fmt.Errorf("role %s is tracked with no subscriber and nothing held", name)
		}
		for fw := range r.subscribers {
			if f, ok := a.frameworks[fw]; !ok || !f.subscribes(name) {
				return fmt.Errorf("role %s lists %s, which does not subscribe to it", name, fw)
			}
		}
	}
	for name := range roleHeld {
		if _, ok := a.roles[name]; !ok {
			return fmt.Errorf("role %s has holdings but is not tracked", name)
		}
	}
	filters := 0
	for id, f := range a.frameworks {
		n := 0
		for k, fs := range f.filters {
			if len(fs) == 0 {
				return fmt.Errorf("framework %s: empty filter list for %v", id, k)
			}
			if !f.subscribes(k.role) {
				return fmt.Errorf("framework %s: filter for unsubscribed role %s", id, k.role)
			}
			if _, ok := a.agents[k.agent]; !ok {
				return fmt.Errorf("framework %s: filter for removed agent %s", id, k.agent)
			}
			n += len(fs)
		}
		if n != f.nfilters {
			return fmt.Errorf("framework %s: %d filters counted, %d present", id, f.nfilters, n)
		}
		filters += n
		for _, role := range f.roles {
			if _, ok := a.roles[role].subscribers[id]; !ok {
				return fmt.Errorf("framework %s subscribes to %s, the role does not list it", id, role)
			}
		}
		for name, r := range a.roles {
			k := fr{id, name}
			should := f.subscribes(name) || fwHeld[k] > 0
			if r.sorter.Has(id) != should {
				return fmt.Errorf("framework %s in role %s's sorter: %v, want %v", id, name, r.sorter.Has(id), should)
			}
			if should && (!r.sorter.Allocation(id).Equal(fwAlloc[k]) || !f.allocated[name].Equal(fwAlloc[k]) || f.held[name] != fwHeld[k]) {
				return fmt.Errorf("framework %s role %s: allocated %q (sorter %q), held %d; holdings say %q, %d",
					id, name, f.allocated[name], r.sorter.Allocation(id), f.held[name], fwAlloc[k], fwHeld[k])
			}
		}
		if !slices.IsSorted(f.roles) {
			return fmt.Errorf("framework %s: roles not sorted", id)
		}
	}
	if filters != a.filters.count {
		return fmt.Errorf("filter clock counts %d, frameworks hold %d", a.filters.count, filters)
	}
	return nil
}
