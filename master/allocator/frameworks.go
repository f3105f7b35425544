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
	// exactly one (FrameworkInfo.role); empty means ["*"]. A MULTI_ROLE
	// framework competes in each role separately and gets at most one
	// offer per (agent, role) from an allocation.
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
	id       ids.FrameworkID
	roles    []string        // subscribed, sorted
	subs     map[string]*sub // by role: subscribed or holding
	caps     Capabilities
	active   bool
	nfilters int
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
	f := &framework{id: id, caps: info.Capabilities, active: active, subs: make(map[string]*sub)}
	a.frameworks[id] = f

	// Adopt what agents reported before the framework came back.
	for _, ag := range a.agentOrder {
		for _, h := range ag.holdings {
			if h.fw != id {
				continue
			}
			s := a.ensureSub(f, a.roles[h.role])
			q, _ := a.quantities(h.res)
			s.held++
			s.client.alloc.add(q)
			s.node.fws.update(&s.client)
		}
	}
	a.subscribe(f, roles, info.SuppressedRoles)
	for _, u := range used {
		ag, ok := a.agents[u.Agent]
		if !ok {
			continue
		}
		cur, _ := ag.holdings.get(holder{id, u.Role})
		if !cur.Equal(u.Resources) {
			a.untrack(id, u.Role, ag, cur)
			a.track(id, u.Role, ag, u.Resources)
		}
	}
	return nil
}

// subscribe sets f's roles and suppressed roles, joining and leaving roles
// as needed. Holdings under a role f leaves stay counted there until they
// are recovered, as in Mesos; its filters for that role go.
func (a *Allocator) subscribe(f *framework, roles, suppressed []string) {
	old := f.roles
	f.roles = roles
	for _, name := range roles {
		s := a.ensureSub(f, a.ensureRole(name))
		if !s.subscribed {
			s.subscribed = true
			s.node.subscribers++
			a.refreshSelf(s.node)
		}
	}
	for _, name := range old {
		if _, still := slices.BinarySearch(roles, name); still {
			continue
		}
		s := f.subs[name]
		s.subscribed = false
		s.node.subscribers--
		a.refreshSelf(s.node)
		a.dropSubFilters(s)
		a.refreshOfferable(s)
		a.maybeDropSub(s)
	}
	for _, name := range roles {
		s := f.subs[name]
		s.suppressed = slices.Contains(suppressed, name)
		a.refreshOfferable(s)
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
	// No index of holdings by framework: this and re-subscription after a
	// failover are rare, and an index would cost every allocation.
	for _, ag := range a.agentOrder {
		for i := 0; i < len(ag.holdings); {
			if h := ag.holdings[i]; h.fw == id {
				a.untrack(id, h.role, ag, h.res) // swaps the last holding into i
				continue
			}
			i++
		}
	}
	a.subscribe(f, nil, nil)
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
	for _, s := range f.subs {
		a.dropSubFilters(s)
		a.refreshOfferable(s)
	}
	return nil
}

// ActivateFramework resumes offers to a framework that reconnected.
func (a *Allocator) ActivateFramework(id ids.FrameworkID) error {
	f, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("activate framework %s: unknown framework", id)
	}
	f.active = true
	for _, s := range f.subs {
		a.refreshOfferable(s)
	}
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
		s := f.subs[r]
		s.suppressed = true
		a.refreshOfferable(s)
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
		s := f.subs[r]
		s.suppressed = false
		a.dropSubFilters(s)
		a.refreshOfferable(s)
	}
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
		if _, found := slices.BinarySearch(f.roles, r); !found {
			return nil, nil, fmt.Errorf("%s framework %s: role %q is not subscribed", action, id, r)
		}
	}
	return f, roles, nil
}
