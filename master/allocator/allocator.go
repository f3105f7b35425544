package allocator

import (
	"fmt"
	"math/rand/v2"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// Allocation is resources of one agent held by one framework under one of
// its roles. Allocate returns them (the master makes each an offer); the
// master passes them back to Recover, and uses them to describe resources
// already in use when an agent or framework is (re)added after a failover.
type Allocation struct {
	Framework ids.FrameworkID
	Agent     ids.AgentID
	Role      string
	Resources resources.Resources
}

// Allocator is the allocation state machine. Create it with New.
type Allocator struct {
	cfg            Config
	minAllocatable []resources.Resources

	agents     map[ids.AgentID]*agent
	agentOrder []ids.AgentID // every agent once; sorted when !orderDirty
	orderDirty bool
	rng        *rand.Rand // nil unless Config.Shuffle

	frameworks map[ids.FrameworkID]*framework
	// holders indexes agent holdings by framework, including frameworks not
	// added yet (an agent re-registering after a master failover reports
	// tasks of frameworks that have not re-subscribed).
	holders map[ids.FrameworkID]map[ids.AgentID]struct{}

	roles      map[string]*role
	roleSorter Sorter[string]
	total      resources.Resources // scalar quantities of every agent's total, active or not

	filters filterClock
	runs    uint64
}

type agent struct {
	id        ids.AgentID
	info      AgentInfo
	active    bool
	allocated resources.Resources // sum of holdings
	free      resources.Resources // info.Total − allocated, floored at zero
	holdings  map[holder]resources.Resources
	hasGPUs   bool
	pos       int // index in Allocator.agentOrder
}

type holder struct {
	fw   ids.FrameworkID
	role string
}

// role is tracked while a framework subscribes to it or anything is held
// under it. Roles, frameworks and sorters count scalar quantities only (see
// resources.ScalarQuantities); agents keep the full resources.
type role struct {
	name        string
	subscribers map[ids.FrameworkID]struct{}
	allocated   resources.Resources // scalar quantities
	held        int                 // holdings under this role, over all agents
	sorter      Sorter[ids.FrameworkID]
}

// New returns an empty allocator with cfg's policy.
func New(cfg Config) (*Allocator, error) {
	if cfg.AllocationInterval < 0 {
		return nil, fmt.Errorf("negative allocation interval %v", cfg.AllocationInterval)
	}
	roleSorter, err := NewSorter[string](cfg.RoleSorter)
	if err != nil {
		return nil, fmt.Errorf("role sorter: %w", err)
	}
	if _, err := NewSorter[ids.FrameworkID](cfg.FrameworkSorter); err != nil {
		return nil, fmt.Errorf("framework sorter: %w", err)
	}
	minAlloc := cfg.MinAllocatable
	if minAlloc == nil {
		minAlloc = DefaultMinAllocatable()
	}
	for _, m := range minAlloc {
		if err := checkQuantities(m); err != nil {
			return nil, fmt.Errorf("min allocatable resources: %w", err)
		}
	}
	a := &Allocator{
		cfg:            cfg,
		minAllocatable: minAlloc,
		agents:         make(map[ids.AgentID]*agent),
		frameworks:     make(map[ids.FrameworkID]*framework),
		holders:        make(map[ids.FrameworkID]map[ids.AgentID]struct{}),
		roles:          make(map[string]*role),
		roleSorter:     roleSorter,
	}
	if cfg.Shuffle {
		a.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	}
	return a, nil
}

// track records that fw holds res on ag under roleName, updating the agent,
// the role and both sorters. Empty resources change nothing.
func (a *Allocator) track(fw ids.FrameworkID, roleName string, ag *agent, res resources.Resources) {
	if res.IsEmpty() {
		return
	}
	h := holder{fw, roleName}
	cur, existed := ag.holdings[h]
	ag.holdings[h] = cur.Add(res)
	ag.allocated = ag.allocated.Add(res)
	ag.free = ag.info.Total.Subtract(ag.allocated)
	if a.holders[fw] == nil {
		a.holders[fw] = make(map[ids.AgentID]struct{})
	}
	a.holders[fw][ag.id] = struct{}{}

	q := res.ScalarQuantities()
	r := a.ensureRole(roleName)
	r.allocated = r.allocated.Add(q)
	a.roleSorter.Allocated(roleName, q)
	if !existed {
		r.held++
	}
	if f := a.frameworks[fw]; f != nil {
		if !existed {
			f.held[roleName]++
		}
		f.allocated[roleName] = f.allocated[roleName].Add(q)
		if !r.sorter.Has(fw) {
			r.sorter.Add(fw)
		}
		r.sorter.Allocated(fw, q)
	}
}

// untrack is track's inverse; res must be part of the holding.
func (a *Allocator) untrack(fw ids.FrameworkID, roleName string, ag *agent, res resources.Resources) {
	if res.IsEmpty() {
		return
	}
	h := holder{fw, roleName}
	gone := false
	if left := ag.holdings[h].Subtract(res); left.IsEmpty() {
		gone = true
		delete(ag.holdings, h)
		if !a.holdsOn(fw, ag) {
			delete(a.holders[fw], ag.id)
			if len(a.holders[fw]) == 0 {
				delete(a.holders, fw)
			}
		}
	} else {
		ag.holdings[h] = left
	}
	// Re-add the holdings rather than subtract: should two reports ever claim
	// the same port, subtracting one claim must not free the other.
	ag.allocated = resources.Resources{}
	for _, held := range ag.holdings {
		ag.allocated = ag.allocated.Add(held)
	}
	ag.free = ag.info.Total.Subtract(ag.allocated)

	q := res.ScalarQuantities()
	r := a.roles[roleName]
	r.allocated = r.allocated.Subtract(q)
	a.roleSorter.Unallocated(roleName, q)
	if gone {
		r.held--
	}
	if f := a.frameworks[fw]; f != nil {
		if gone {
			if f.held[roleName]--; f.held[roleName] == 0 {
				delete(f.held, roleName)
			}
		}
		if left := f.allocated[roleName].Subtract(q); left.IsEmpty() {
			delete(f.allocated, roleName)
		} else {
			f.allocated[roleName] = left
		}
		r.sorter.Unallocated(fw, q)
		a.maybeDropFromRole(f, r)
	}
	a.maybeDropRole(r)
}

func (a *Allocator) holdsOn(fw ids.FrameworkID, ag *agent) bool {
	for h := range ag.holdings {
		if h.fw == fw {
			return true
		}
	}
	return false
}

func (a *Allocator) ensureRole(name string) *role {
	if r, ok := a.roles[name]; ok {
		return r
	}
	// The sorter name was checked in New.
	sorter, _ := NewSorter[ids.FrameworkID](a.cfg.FrameworkSorter)
	sorter.SetTotal(a.total)
	r := &role{name: name, subscribers: make(map[ids.FrameworkID]struct{}), sorter: sorter}
	a.roles[name] = r
	a.roleSorter.Add(name)
	return r
}

// maybeDropFromRole removes f from r's sorter once it neither subscribes to
// r nor holds anything under it.
func (a *Allocator) maybeDropFromRole(f *framework, r *role) {
	_, subscribed := r.subscribers[f.id]
	if !subscribed && f.held[r.name] == 0 && r.sorter.Has(f.id) {
		r.sorter.Remove(f.id)
	}
}

func (a *Allocator) maybeDropRole(r *role) {
	if len(r.subscribers) == 0 && r.held == 0 {
		delete(a.roles, r.name)
		a.roleSorter.Remove(r.name)
	}
}

// setTotal changes the pool every share is relative to.
func (a *Allocator) setTotal(total resources.Resources) {
	a.total = total
	a.roleSorter.SetTotal(total)
	for _, r := range a.roles {
		r.sorter.SetTotal(total)
	}
}
