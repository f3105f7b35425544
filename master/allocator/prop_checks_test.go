package allocator

import (
	"maps"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// allocate runs a round in both allocators. Under the random policy the
// reference cannot predict the order, so it adopts the real decisions once
// they pass the safety checks.
func (p *propRun) allocate() {
	ref := p.ref
	before := p.snapshot()
	got := p.a.Allocate(p.now)
	p.checkRound(got, before)
	if p.exact {
		want := ref.allocate(p.now)
		if !slices.EqualFunc(got, want, func(x, y Allocation) bool {
			return x.Framework == y.Framework && x.Agent == y.Agent && x.Role == y.Role && x.Resources.Equal(y.Resources)
		}) {
			p.fatalf("allocate at %v:\n got  %v\n want %v", p.now, got, want)
		}
	} else {
		for _, f := range ref.frameworks {
			f.filters = slices.DeleteFunc(f.filters, func(x refFilter) bool { return !p.now.Before(x.expires) })
		}
		for _, al := range got {
			ag := ref.agents[al.Agent]
			h := holder{al.Framework, al.Role}
			ag.holdings[h] = ag.holdings[h].Add(al.Resources)
		}
	}
	p.checkAfterRound(before)
}

// roundState is what the round checks compare against.
type roundState struct {
	free     map[ids.AgentID]resources.Resources
	consumed map[string]qmap
	gap      qmap // available − required headroom, by name
}

func (p *propRun) snapshot() roundState {
	ref := p.ref
	st := roundState{free: map[ids.AgentID]resources.Resources{}, consumed: map[string]qmap{}, gap: qmap{}}
	for id, ag := range ref.agents {
		st.free[id] = ref.free(ag)
	}
	for role := range ref.quotas {
		st.consumed[role] = ref.consumed(role)
	}
	avail, req := ref.availHeadroom(), ref.requiredHeadroom()
	for name := range req {
		st.gap[name] = avail[name] - req[name]
	}
	return st
}

// checkRound verifies the safety of each allocation against the state
// before the round.
func (p *propRun) checkRound(got []Allocation, before roundState) {
	ref := p.ref
	free := maps.Clone(before.free)
	seen := map[offerID]bool{}
	for _, al := range got {
		ag, f := ref.agents[al.Agent], ref.frameworks[al.Framework]
		k := offerID{al.Framework, al.Role, al.Agent}
		switch {
		case ag == nil || f == nil:
			p.fatalf("offer %+v names an unknown agent or framework", al)
		case seen[k]:
			p.fatalf("two offers for %+v in one round", k)
		case !ag.active:
			p.fatalf("offer %+v on an inactive agent", al)
		case !f.active:
			p.fatalf("offer %+v to an inactive framework", al)
		case f.suppressed[al.Role] || !slices.Contains(f.roles, al.Role):
			p.fatalf("offer %+v for a suppressed or unsubscribed role", al)
		case ag.total.Quantity("gpus") > 0 && !f.gpu:
			p.fatalf("offer %+v of a GPU agent to a framework without GPU_RESOURCES", al)
		case !free[al.Agent].Contains(al.Resources):
			p.fatalf("offer %+v exceeds what is free: %s", al, free[al.Agent])
		case !ref.allocatable(al.Resources):
			p.fatalf("offer %+v is below the minimum allocatable", al)
		}
		for x := range al.Resources.All() {
			if !resources.IsAllocatableTo(x.Role, al.Role) {
				p.fatalf("offer %+v gives %s, reserved for another role", al, x)
			}
		}
		seen[k] = true
		free[al.Agent] = free[al.Agent].Subtract(al.Resources)
	}
}

// checkAfterRound verifies the quota properties of a round as a whole.
func (p *propRun) checkAfterRound(before roundState) {
	ref := p.ref
	// Limits: offers never push consumption past a limit (it may already
	// have been above, by tasks or a forced quota).
	for role, q := range ref.quotas {
		c := ref.consumed(role)
		for name, l := range q.limit {
			if c[name] > max(l, before.consumed[role][name]) {
				p.fatalf("role %s consumes %v %s after the round, limit %v (was %v)", role, c[name], name, l, before.consumed[role][name])
			}
		}
	}
	// Headroom: if the guarantees could be met before, they still can; if
	// not, the shortfall did not grow.
	avail, req := ref.availHeadroom(), ref.requiredHeadroom()
	for name, r := range req {
		if gap := avail[name] - r; gap < min(0, before.gap[name]) {
			p.fatalf("headroom for %s: available %v, required %v after the round; gap was %v", name, avail[name], r, before.gap[name])
		}
	}
	// Guarantees: a role that still needs something could not have been
	// given anything more by any agent.
	for _, role := range slices.Sorted(maps.Keys(ref.tracked())) {
		if !ref.needs(role) {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(ref.agents)) {
			ag := ref.agents[id]
			if !ag.active {
				continue
			}
			cand := ref.candidate(ag, role, 1)
			if !ref.allocatable(cand) {
				continue
			}
			for _, fw := range ref.frameworksOf(role) {
				if (ag.total.Quantity("gpus") == 0 || ref.frameworks[fw].gpu) && !ref.filteredOut(fw, role, id, cand, p.now) {
					p.fatalf("role %s still needs its guarantee, and %s could have had %s of %s", role, fw, cand, id)
				}
			}
		}
	}
}

// compareState requires the same holdings and the same role figures in both.
func (p *propRun) compareState(desc string) {
	for _, id := range propAgents {
		st, ok := p.a.Agent(id)
		rag := p.ref.agents[id]
		if ok != (rag != nil) {
			p.fatalf("after %s: agent %s known=%v, reference %v", desc, id, ok, rag != nil)
		}
		if !ok {
			continue
		}
		if !st.Info.Total.Equal(rag.total) {
			p.fatalf("after %s: agent %s total %s, reference %s", desc, id, st.Info.Total, rag.total)
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
	tracked := p.ref.tracked()
	roles := p.a.Roles()
	if len(roles) != len(tracked) {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = r.Name
		}
		p.fatalf("after %s: roles %v, reference %v", desc, names, slices.Sorted(maps.Keys(tracked)))
	}
	for _, st := range roles {
		if !tracked[st.Name] {
			p.fatalf("after %s: role %s tracked, the reference does not know it", desc, st.Name)
		}
		sub := p.ref.held(func(h holder) bool { return inTree(h.role, st.Name) })
		if !qmapEqual(st.Allocated, sub) || !qmapEqual(st.Consumed, p.ref.consumed(st.Name)) || st.Weight != p.ref.weight(st.Name) {
			p.fatalf("after %s: role %s allocated %s consumed %s weight %v; reference %v, %v, %v",
				desc, st.Name, st.Allocated, st.Consumed, st.Weight, sub, p.ref.consumed(st.Name), p.ref.weight(st.Name))
		}
	}
}

func qmapEqual(rs resources.Resources, m qmap) bool {
	for name, v := range m {
		if rs.Quantity(name) != v {
			return false
		}
	}
	for x := range rs.All() {
		if m[x.Name] != x.Scalar {
			return false
		}
	}
	return true
}
