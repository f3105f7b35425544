package allocator

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

var (
	propAgents     = []ids.AgentID{"a0", "a1", "a2", "a3", "a4", "a5"}
	propFrameworks = []ids.FrameworkID{"f0", "f1", "f2", "f3", "f4"}
	propRoles      = []string{"*", "eng", "ops"}
	propShapes     = []string{
		"cpus:4;mem:4096;ports:[31000-31010]",
		"cpus:2;mem:1024;disk:100",
		"cpus:8;mem:512;gpus:1",
		"cpus:2;cpus(eng):2;mem:2048;mem(eng):512",
		"cpus(ops):3;mem(ops):3072;ports(ops):[1-5]",
		"cpus:0.005;mem:16",
		"mem:64",
	}
	propRefuse = []float64{0, -1, 0.5, 2, 10, 1000}
)

// TestAgainstReference drives the allocator and the naive reference with the
// same random events on small clusters and requires the same decisions, the
// same holdings after every event, and the safety properties of every round.
func TestAgainstReference(t *testing.T) {
	for seed := range uint64(400) {
		runRandom(t, seed, 150)
	}
}

type propRun struct {
	t    *testing.T
	seed uint64
	step int
	rng  *rand.Rand
	a    *Allocator
	ref  *reference
	now  time.Time
}

func runRandom(t *testing.T, seed uint64, steps int) {
	const interval = time.Second
	p := &propRun{
		t: t, seed: seed,
		rng: rand.New(rand.NewPCG(seed, 99)),
		a:   mustNew(t, Config{AllocationInterval: interval}),
		ref: newReference(interval),
		now: time.Unix(1000, 0),
	}
	for p.step = range steps {
		desc := p.event()
		if err := checkInvariants(p.a); err != nil {
			p.fatalf("after %s: %v", desc, err)
		}
		p.compareHoldings(desc)
	}
}

func (p *propRun) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("seed %d step %d: %s", p.seed, p.step, fmt.Sprintf(format, args...))
}

func (p *propRun) must(desc string, err error) string {
	p.t.Helper()
	if err != nil {
		p.fatalf("%s: %v", desc, err)
	}
	return desc
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// piece returns a random part of from, entry by entry (possibly empty).
func (p *propRun) piece(from resources.Resources) resources.Resources {
	out := resources.Resources{}
	for r := range from.All() {
		if p.rng.IntN(2) == 0 {
			out = out.Add(resources.Must(r))
		}
	}
	return out
}

func (p *propRun) randomRoles() []string {
	roles := []string{pick(p.rng, propRoles)}
	if other := pick(p.rng, propRoles); p.rng.IntN(3) == 0 && other != roles[0] {
		roles = append(roles, other)
	}
	return roles
}

func (p *propRun) event() string {
	r, ref := p.rng, p.ref
	agentID, fwID := pick(r, propAgents), pick(r, propFrameworks)
	ag, f := ref.agents[agentID], ref.frameworks[fwID]
	switch n := r.IntN(100); {
	case n < 12 && ag == nil:
		total := resources.MustParse(pick(r, propShapes))
		var used []Allocation
		if r.IntN(3) == 0 {
			used = append(used, Allocation{Framework: fwID, Role: pick(r, propRoles), Resources: p.piece(total)})
		}
		desc := fmt.Sprintf("add-agent %s %s used=%v", agentID, total, used)
		p.must(desc, p.a.AddAgent(agentID, AgentInfo{Total: total}, used))
		ref.agents[agentID] = &refAgent{total: total, active: true, gpus: total.Quantity("gpus") > 0, holdings: map[holder]resources.Resources{}}
		for _, u := range used {
			if !u.Resources.IsEmpty() {
				ref.agents[agentID].holdings[holder{u.Framework, u.Role}] = u.Resources
			}
		}
		return desc
	case n < 15 && ag != nil:
		desc := "remove-agent " + string(agentID)
		p.must(desc, p.a.RemoveAgent(agentID))
		delete(ref.agents, agentID)
		for id := range ref.frameworks {
			ref.dropFilters(id, func(x refFilter) bool { return x.agent == agentID })
		}
		return desc
	case n < 18 && ag != nil:
		total := resources.MustParse(pick(r, propShapes))
		desc := fmt.Sprintf("update-agent %s %s", agentID, total)
		p.must(desc, p.a.UpdateAgent(agentID, AgentInfo{Total: total}))
		ag.total, ag.gpus = total, total.Quantity("gpus") > 0
		return desc
	case n < 22 && ag != nil:
		ag.active = !ag.active
		if ag.active {
			return p.must("activate-agent "+string(agentID), p.a.ActivateAgent(agentID))
		}
		return p.must("deactivate-agent "+string(agentID), p.a.DeactivateAgent(agentID))
	case n < 30 && f == nil:
		info := FrameworkInfo{Roles: p.randomRoles(), Capabilities: Capabilities{GPUResources: r.IntN(2) == 0}}
		if r.IntN(4) == 0 {
			info.SuppressedRoles = info.Roles[:1]
		}
		var used []Allocation
		if ag != nil && r.IntN(3) == 0 {
			role := pick(r, info.Roles)
			cur := ag.holdings[holder{fwID, role}]
			used = append(used, Allocation{Agent: agentID, Role: role, Resources: p.piece(ref.free(ag).Add(cur))})
		}
		active := r.IntN(5) > 0
		desc := fmt.Sprintf("add-framework %s %+v used=%v active=%v", fwID, info, used, active)
		p.must(desc, p.a.AddFramework(fwID, info, used, active))
		nf := &refFramework{roles: slices.Sorted(slices.Values(info.Roles)), suppressed: map[string]bool{}, active: active, gpu: info.Capabilities.GPUResources}
		for _, s := range info.SuppressedRoles {
			nf.suppressed[s] = true
		}
		ref.frameworks[fwID] = nf
		for _, u := range used {
			if u.Resources.IsEmpty() {
				delete(ag.holdings, holder{fwID, u.Role})
			} else {
				ag.holdings[holder{fwID, u.Role}] = u.Resources
			}
		}
		return desc
	case n < 33 && f != nil:
		desc := "remove-framework " + string(fwID)
		p.must(desc, p.a.RemoveFramework(fwID))
		delete(ref.frameworks, fwID)
		for _, x := range ref.agents {
			for h := range x.holdings {
				if h.fw == fwID {
					delete(x.holdings, h)
				}
			}
		}
		return desc
	case n < 37 && f != nil:
		f.active = !f.active
		if f.active {
			return p.must("activate-framework "+string(fwID), p.a.ActivateFramework(fwID))
		}
		f.filters = nil
		return p.must("deactivate-framework "+string(fwID), p.a.DeactivateFramework(fwID))
	case n < 40 && f != nil:
		info := FrameworkInfo{Roles: p.randomRoles(), Capabilities: Capabilities{GPUResources: r.IntN(2) == 0}}
		desc := fmt.Sprintf("update-framework %s %+v", fwID, info)
		p.must(desc, p.a.UpdateFramework(fwID, info))
		f.roles, f.gpu = slices.Sorted(slices.Values(info.Roles)), info.Capabilities.GPUResources
		clear(f.suppressed)
		f.filters = slices.DeleteFunc(f.filters, func(x refFilter) bool { return !slices.Contains(f.roles, x.role) })
		return desc
	case n < 48 && f != nil:
		var roles []string
		if r.IntN(2) == 0 {
			roles = []string{pick(r, f.roles)}
		}
		all := roles
		if len(all) == 0 {
			all = f.roles
		}
		if r.IntN(2) == 0 {
			desc := fmt.Sprintf("suppress %s %v", fwID, roles)
			for _, x := range all {
				f.suppressed[x] = true
			}
			return p.must(desc, p.a.Suppress(fwID, roles))
		}
		desc := fmt.Sprintf("revive %s %v", fwID, roles)
		for _, x := range all {
			delete(f.suppressed, x)
		}
		ref.dropFilters(fwID, func(x refFilter) bool { return slices.Contains(all, x.role) })
		return p.must(desc, p.a.Revive(fwID, roles))
	case n < 75:
		return p.recoverSomething()
	}
	p.now = p.now.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
	p.allocate()
	return "allocate"
}

// recoverSomething gives back all or part of a random holding, with or
// without a filter.
func (p *propRun) recoverSomething() string {
	var all []Allocation
	for _, id := range slices.Sorted(maps.Keys(p.ref.agents)) {
		for h, res := range p.ref.agents[id].holdings {
			all = append(all, Allocation{Framework: h.fw, Agent: id, Role: h.role, Resources: res})
		}
	}
	if len(all) == 0 {
		return "nothing to recover"
	}
	// Map order must not leak into the choice, or a seed would not replay.
	slices.SortFunc(all, func(x, y Allocation) int {
		return cmp.Or(cmp.Compare(x.Agent, y.Agent), cmp.Compare(x.Framework, y.Framework), cmp.Compare(x.Role, y.Role))
	})
	al := pick(p.rng, all)
	if p.rng.IntN(2) == 0 {
		al.Resources = p.piece(al.Resources)
	}
	var f *Filter
	if p.rng.IntN(3) > 0 {
		f = &Filter{RefuseSeconds: pick(p.rng, propRefuse)}
	}
	desc := fmt.Sprintf("recover %+v filter=%v", al, f)
	p.must(desc, p.a.Recover(al, f, p.now))
	p.ref.recover(al, f, p.now)
	return desc
}

func (p *propRun) allocate() {
	p.checkRound(p.a.Allocate(p.now))
}

// checkRound verifies the safety properties of got against the state before
// the round, then that the reference decides exactly the same.
func (p *propRun) checkRound(got []Allocation) {
	ref := p.ref
	free := map[ids.AgentID]resources.Resources{}
	for id, ag := range ref.agents {
		free[id] = ref.free(ag)
	}
	for _, al := range got {
		ag, f := ref.agents[al.Agent], ref.frameworks[al.Framework]
		switch {
		case ag == nil || f == nil:
			p.fatalf("offer %+v names an unknown agent or framework", al)
		case !ag.active:
			p.fatalf("offer %+v on an inactive agent", al)
		case !f.active:
			p.fatalf("offer %+v to an inactive framework", al)
		case f.suppressed[al.Role] || !slices.Contains(f.roles, al.Role):
			p.fatalf("offer %+v for a suppressed or unsubscribed role", al)
		case !free[al.Agent].AllocatableTo(al.Role).Contains(al.Resources):
			p.fatalf("offer %+v exceeds what is free for the role: %s", al, free[al.Agent])
		case !ref.allocatable(al.Resources):
			p.fatalf("offer %+v is below the minimum allocatable", al)
		}
		free[al.Agent] = free[al.Agent].Subtract(al.Resources)
	}
	if len(got) > 0 {
		p.checkFirstIsFairest(got[0])
	}
	want := ref.allocate(p.now)
	if !slices.EqualFunc(got, want, func(x, y Allocation) bool {
		return x.Framework == y.Framework && x.Agent == y.Agent && x.Role == y.Role && x.Resources.Equal(y.Resources)
	}) {
		p.fatalf("allocate at %v:\n got  %v\n want %v", p.now, got, want)
	}
}

// checkFirstIsFairest: the round's first offer goes to the first agent on
// which anyone can be offered anything, and to the role and framework with
// the lowest (share, name) among those who could take it.
func (p *propRun) checkFirstIsFairest(first Allocation) {
	ref := p.ref
	for _, id := range slices.Sorted(maps.Keys(ref.agents)) {
		ag := ref.agents[id]
		if !ag.active {
			continue
		}
		found := false
		for _, role := range ref.roles() {
			avail := ref.free(ag).AllocatableTo(role)
			if !ref.allocatable(avail) {
				continue
			}
			for _, fw := range ref.frameworksOf(role) {
				if !ref.candidate(fw, role, id, avail, p.now) {
					continue
				}
				found = true
				if id != first.Agent {
					p.fatalf("first offer %+v, but agent %s (visited earlier) could go to %s", first, id, fw)
				}
				rs, fs := ref.roleShare(first.Role), ref.roleShare(role)
				if cmpShare(rs, fs, first.Role, role) > 0 {
					p.fatalf("first offer %+v in role share %v, but role %s (share %v) had candidate %s", first, rs, role, fs, fw)
				}
				if role == first.Role && cmpShare(ref.frameworkShare(first.Framework, role), ref.frameworkShare(fw, role), first.Framework, fw) > 0 {
					p.fatalf("first offer %+v, but %s has a lower share in %s", first, fw, role)
				}
			}
		}
		if found {
			return
		}
	}
}

func (p *propRun) compareHoldings(desc string) {
	for _, id := range propAgents {
		st, ok := p.a.Agent(id)
		rag := p.ref.agents[id]
		if ok != (rag != nil) {
			p.fatalf("after %s: agent %s known=%v, reference %v", desc, id, ok, rag != nil)
		}
		if !ok {
			continue
		}
		if len(st.Holdings) != len(rag.holdings) {
			p.fatalf("after %s: agent %s holdings %v, reference %v", desc, id, st.Holdings, rag.holdings)
		}
		for _, h := range st.Holdings {
			if !rag.holdings[holder{h.Framework, h.Role}].Equal(h.Resources) {
				p.fatalf("after %s: agent %s holding %+v, reference %v", desc, id, h, rag.holdings)
			}
		}
	}
}
