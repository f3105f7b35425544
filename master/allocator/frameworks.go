package allocator

import (
	"fmt"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// FrameworkInfo is what the allocator needs to know of a framework.
type FrameworkInfo struct {
	// Roles the framework subscribes to. A framework without MULTI_ROLE has
	// exactly one (FrameworkInfo.role); empty means ["*"].
	Roles []string
	// SuppressedRoles are roles for which the framework wants no offers
	// (SUBSCRIBE's suppressed_roles); each must be in Roles.
	SuppressedRoles []string
	Capabilities    Capabilities
}

// Capabilities are the framework capabilities that change what it may be
// offered.
type Capabilities struct {
	// GPUResources (GPU_RESOURCES): only such frameworks are offered agents
	// that have GPUs, so that GPU machines are not filled with CPU-only
	// work (Mesos's --filter_gpu_resources, on by default).
	GPUResources bool
}

type framework struct {
	id         ids.FrameworkID
	roles      []string // sorted
	suppressed map[string]bool
	caps       Capabilities
	active     bool
	allocated  map[string]resources.Resources // scalar quantities by role, over all agents
	held       map[string]int                 // agents holding something, by role
	filters    map[filterKey][]offerFilter
	nfilters   int
}

func (f *framework) subscribes(role string) bool {
	_, found := slices.BinarySearch(f.roles, role)
	return found
}

// checkInfo validates info and returns its roles, sorted, defaulted to "*".
func checkInfo(info FrameworkInfo) ([]string, error) {
	roles := slices.Clone(info.Roles)
	if len(roles) == 0 {
		roles = []string{resources.Unreserved}
	}
	slices.Sort(roles)
	for i, r := range roles {
		if err := resources.ValidateRole(r); err != nil {
			return nil, err
		}
		if i > 0 && roles[i-1] == r {
			return nil, fmt.Errorf("role %q given twice", r)
		}
	}
	for _, r := range info.SuppressedRoles {
		if _, found := slices.BinarySearch(roles, r); !found {
			return nil, fmt.Errorf("suppressed role %q is not subscribed", r)
		}
	}
	return roles, nil
}

// AddFramework adds a framework. It takes over whatever agents already
// report it holding; used adds or corrects holdings (the latest report for
// an agent and role wins) and is ignored for agents that are not added.
// A framework added inactive is known and counted but gets no offers until
// ActivateFramework.
func (a *Allocator) AddFramework(id ids.FrameworkID, info FrameworkInfo, used []Allocation, active bool) error {
	if _, ok := a.frameworks[id]; ok {
		return fmt.Errorf("add framework %s: already added", id)
	}
	roles, err := checkInfo(info)
	if err != nil {
		return fmt.Errorf("add framework %s: %w", id, err)
	}
	for _, u := range used {
		if u.Framework != "" && u.Framework != id {
			return fmt.Errorf("add framework %s: used resources of framework %s", id, u.Framework)
		}
		if err := resources.ValidateRole(u.Role); err != nil {
			return fmt.Errorf("add framework %s: used resources on %s: %w", id, u.Agent, err)
		}
	}
	f := &framework{
		id:         id,
		suppressed: make(map[string]bool),
		caps:       info.Capabilities,
		active:     active,
		allocated:  make(map[string]resources.Resources),
		held:       make(map[string]int),
		filters:    make(map[filterKey][]offerFilter),
	}
	a.frameworks[id] = f
	a.subscribe(f, roles, info.SuppressedRoles)

	// Adopt what agents reported before the framework came back.
	for agentID := range a.holders[id] {
		for h, res := range a.agents[agentID].holdings {
			if h.fw != id {
				continue
			}
			q := res.ScalarQuantities()
			f.held[h.role]++
			f.allocated[h.role] = f.allocated[h.role].Add(q)
			r := a.roles[h.role]
			if !r.sorter.Has(id) {
				r.sorter.Add(id)
			}
			r.sorter.Allocated(id, q)
		}
	}
	for _, u := range used {
		ag, ok := a.agents[u.Agent]
		if !ok {
			continue
		}
		cur := ag.holdings[holder{id, u.Role}]
		if !cur.Equal(u.Resources) {
			a.untrack(id, u.Role, ag, cur)
			a.track(id, u.Role, ag, u.Resources)
		}
	}
	return nil
}

// subscribe sets f's roles and suppressed roles, joining and leaving role
// sorters as needed. Holdings under a role f leaves stay counted there until
// they are recovered, as in Mesos.
func (a *Allocator) subscribe(f *framework, roles, suppressed []string) {
	old := f.roles
	f.roles = roles
	for _, name := range roles {
		r := a.ensureRole(name)
		r.subscribers[f.id] = struct{}{}
		if !r.sorter.Has(f.id) {
			r.sorter.Add(f.id)
		}
	}
	for _, name := range old {
		if f.subscribes(name) {
			continue
		}
		r := a.roles[name]
		delete(r.subscribers, f.id)
		a.filters.forget(f.dropFilters(func(k filterKey) bool { return k.role == name }))
		a.maybeDropFromRole(f, r)
		a.maybeDropRole(r)
	}
	clear(f.suppressed)
	for _, name := range suppressed {
		f.suppressed[name] = true
	}
}

// UpdateFramework changes a framework's roles, suppressed roles and
// capabilities (a re-SUBSCRIBE or UPDATE_FRAMEWORK). Use it rather than
// remove and add, which would give back everything the framework holds.
func (a *Allocator) UpdateFramework(id ids.FrameworkID, info FrameworkInfo) error {
	f, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("update framework %s: unknown framework", id)
	}
	roles, err := checkInfo(info)
	if err != nil {
		return fmt.Errorf("update framework %s: %w", id, err)
	}
	f.caps = info.Capabilities
	a.subscribe(f, roles, info.SuppressedRoles)
	return nil
}

// RemoveFramework forgets a framework: everything it holds returns to the
// free pool and its filters go. The master must not Recover its resources
// afterwards (such a Recover is ignored).
func (a *Allocator) RemoveFramework(id ids.FrameworkID) error {
	f, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("remove framework %s: unknown framework", id)
	}
	for agentID := range a.holders[id] {
		ag := a.agents[agentID]
		for h, res := range ag.holdings {
			if h.fw == id {
				a.untrack(id, h.role, ag, res)
			}
		}
	}
	a.subscribe(f, nil, nil)
	a.filters.forget(f.dropFilters(func(filterKey) bool { return true }))
	delete(a.frameworks, id)
	return nil
}

// DeactivateFramework stops offers to a disconnected framework while keeping
// what it holds. Its filters are cleared, as in Mesos: they were meant for a
// scheduler that is gone.
func (a *Allocator) DeactivateFramework(id ids.FrameworkID) error {
	f, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("deactivate framework %s: unknown framework", id)
	}
	f.active = false
	a.filters.forget(f.dropFilters(func(filterKey) bool { return true }))
	return nil
}

// ActivateFramework resumes offers to a framework that reconnected.
func (a *Allocator) ActivateFramework(id ids.FrameworkID) error {
	f, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("activate framework %s: unknown framework", id)
	}
	f.active = true
	return nil
}

// Suppress stops offers to the framework for roles (all its roles when
// empty) until Revive.
func (a *Allocator) Suppress(id ids.FrameworkID, roles []string) error {
	f, roles, err := a.frameworkRoles("suppress", id, roles)
	if err != nil {
		return err
	}
	for _, r := range roles {
		f.suppressed[r] = true
	}
	return nil
}

// Revive resumes offers for roles (all its roles when empty) and, as in
// Mesos, clears the framework's filters for those roles: a framework
// revives because it now wants what it refused.
func (a *Allocator) Revive(id ids.FrameworkID, roles []string) error {
	f, roles, err := a.frameworkRoles("revive", id, roles)
	if err != nil {
		return err
	}
	for _, r := range roles {
		delete(f.suppressed, r)
	}
	a.filters.forget(f.dropFilters(func(k filterKey) bool { return slices.Contains(roles, k.role) }))
	return nil
}

func (a *Allocator) frameworkRoles(action string, id ids.FrameworkID, roles []string) (*framework, []string, error) {
	f, ok := a.frameworks[id]
	if !ok {
		return nil, nil, fmt.Errorf("%s framework %s: unknown framework", action, id)
	}
	if len(roles) == 0 {
		return f, f.roles, nil
	}
	for _, r := range roles {
		if !f.subscribes(r) {
			return nil, nil, fmt.Errorf("%s framework %s: role %q is not subscribed", action, id, r)
		}
	}
	return f, roles, nil
}
