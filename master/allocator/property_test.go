package allocator

import (
	"cmp"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

var (
	propAgents     = []ids.AgentID{"a0", "a1", "a2", "a3", "a4", "a5"}
	propFrameworks = []ids.FrameworkID{"f0", "f1", "f2", "f3", "f4"}
	propRoles      = []string{"*", "eng", "eng/web", "ops", "ops/db"}
	propShapes     = []string{
		"cpus:4;mem:4096;ports:[31000-31010]",
		"cpus:2;mem:1024;disk:100",
		"cpus:8;mem:512;gpus:1",
		"cpus:2;cpus(eng):2;mem:2048;mem(eng):512",
		"cpus(ops):3;mem(ops):3072;ports(ops):[1-5]",
		"cpus:1;cpus(eng/web):1;mem:256;mem(eng/web,dynamic):256",
		"cpus:3;cpus(ops/db,dynamic):1;mem:1024",
		"cpus:0.005;mem:16",
		"mem:64",
	}
	propRefuse = []float64{0, -1, 0.5, 2, 10, 1000}
	propPolicy = [][2]string{{"", ""}, {SorterPriority, SorterDRF}, {SorterDRF, SorterPriority}, {SorterRandom, SorterRandom}}
)

// TestAgainstReference drives the allocator and the naive reference with the
// same random events on small clusters and requires, under the drf and
// priority policies, the same decisions and holdings after every event;
// under every policy, the safety properties of every round: nothing offered
// twice or beyond what is free, reserved resources only to their role and
// its subroles, no quota limit crossed, no guarantee's headroom given away,
// unmet guarantees served as far as the cluster allows.
var (
	propTrace = false
	propSeeds = flag.Uint64("prop.seeds", 400, "seeds TestAgainstReference runs (60 with -short)")
)

func TestAgainstReference(t *testing.T) {
	seeds := *propSeeds
	if testing.Short() {
		seeds = min(seeds, 60)
	}
	for seed := range seeds {
		runRandom(t, seed, 150)
	}
}

type propRun struct {
	t      *testing.T
	seed   uint64
	step   int
	rng    *rand.Rand
	a      *Allocator
	ref    *reference
	now    time.Time
	exact  bool // the reference must agree decision for decision
	quotas bool // this run sets quota
}

func runRandom(t *testing.T, seed uint64, steps int) {
	const interval = time.Second
	pol := propPolicy[seed%uint64(len(propPolicy))]
	p := &propRun{
		t: t, seed: seed,
		rng:    rand.New(rand.NewPCG(seed, 99)),
		a:      mustNew(t, Config{AllocationInterval: interval, RoleSorter: pol[0], FrameworkSorter: pol[1], Seed: seed}),
		ref:    newReference(interval, pol[0], pol[1]),
		now:    time.Unix(1000, 0),
		exact:  pol[0] != SorterRandom,
		quotas: seed%3 != 0,
	}
	defer func() {
		if e := recover(); e != nil {
			p.fatalf("panic: %v\n%s", e, debug.Stack())
		}
	}()
	for p.step = range steps {
		if propTrace {
			t.Logf("step %d", p.step)
		}
		desc := p.event()
		if propTrace {
			t.Logf("  %s", desc)
		}
		if err := checkInvariants(p.a); err != nil {
			p.fatalf("after %s: %v", desc, err)
		}
		p.compareState(desc)
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
	switch n := r.IntN(110); {
	case n < 12 && ag == nil:
		total := resources.MustParse(pick(r, propShapes))
		var used []Allocation
		if r.IntN(3) == 0 {
			used = append(used, Allocation{Framework: fwID, Role: pick(r, propRoles), Resources: p.piece(total)})
		}
		desc := fmt.Sprintf("add-agent %s %s used=%v", agentID, total, used)
		p.must(desc, p.a.AddAgent(agentID, AgentInfo{Total: total}, used))
		ref.agents[agentID] = &refAgent{total: total, active: true, holdings: map[holder]resources.Resources{}}
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
		if !total.Equal(ag.total) {
			for id := range ref.frameworks {
				ref.dropFilters(id, func(x refFilter) bool { return x.agent == agentID })
			}
		}
		ag.total = total
		return desc
	case n < 22 && ag != nil:
		ag.active = !ag.active
		if ag.active {
			return p.must("activate-agent "+string(agentID), p.a.ActivateAgent(agentID))
		}
		return p.must("deactivate-agent "+string(agentID), p.a.DeactivateAgent(agentID))
	case n < 30 && f == nil:
		return p.addFramework(fwID, ag, agentID)
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
		return p.suppressOrRevive(fwID, f)
	case n < 52:
		return p.updateWeights()
	case n < 57 && p.quotas:
		return p.updateQuota()
	case n < 62:
		return p.reserveOrUnreserve(agentID, ag)
	case n < 64 && p.quotas:
		return p.rescind()
	case n < 85:
		return p.recoverSomething()
	}
	p.now = p.now.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
	p.allocate()
	return "allocate"
}

func (p *propRun) addFramework(fwID ids.FrameworkID, ag *refAgent, agentID ids.AgentID) string {
	r, ref := p.rng, p.ref
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
}

func (p *propRun) suppressOrRevive(fwID ids.FrameworkID, f *refFramework) string {
	var roles []string
	if p.rng.IntN(2) == 0 {
		roles = []string{pick(p.rng, f.roles)}
	}
	all := roles
	if len(all) == 0 {
		all = f.roles
	}
	if p.rng.IntN(2) == 0 {
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
	p.ref.dropFilters(fwID, func(x refFilter) bool { return slices.Contains(all, x.role) })
	return p.must(desc, p.a.Revive(fwID, roles))
}

func (p *propRun) updateWeights() string {
	w := map[string]float64{pick(p.rng, propRoles): pick(p.rng, []float64{0.5, 1, 2, 3})}
	desc := fmt.Sprintf("update-weights %v", w)
	p.must(desc, p.a.UpdateWeights(w))
	for role, v := range w {
		if v == 1 {
			delete(p.ref.weights, role)
		} else {
			p.ref.weights[role] = v
		}
	}
	return desc
}

// updateQuota sets a random quota; what the allocator refuses (a broken
// hierarchy rule, a limit below consumption without force) the reference
// does not see.
func (p *propRun) updateQuota() string {
	r := p.rng
	role := pick(r, propRoles[1:])
	c := QuotaConfig{Role: role, Guarantees: map[string]float64{}, Limits: map[string]float64{}}
	for _, name := range []string{"cpus", "mem"} {
		scale := 1.0
		if name == "mem" {
			scale = 512
		}
		if r.IntN(2) == 0 {
			c.Guarantees[name] = float64(r.IntN(4)) * scale
		}
		if r.IntN(2) == 0 {
			c.Limits[name] = c.Guarantees[name] + float64(r.IntN(5))*scale
		}
	}
	force := r.IntN(2) == 0
	desc := fmt.Sprintf("update-quota %+v force=%v", c, force)
	if err := p.a.UpdateQuota([]QuotaConfig{c}, force); err != nil {
		return desc + " refused: " + err.Error()
	}
	if len(c.Guarantees) == 0 && len(c.Limits) == 0 {
		delete(p.ref.quotas, role)
		return desc
	}
	q := refQuota{guarantee: map[string]resources.Fixed{}, limit: map[string]resources.Fixed{}}
	for name, v := range c.Guarantees {
		q.guarantee[name] = resources.MustFixed(v)
	}
	for name, v := range c.Limits {
		q.limit[name] = resources.MustFixed(v)
	}
	p.ref.quotas[role] = q
	return desc
}

// reserveOrUnreserve makes a dynamic reservation out of free resources or
// of a holding, or undoes one.
func (p *propRun) reserveOrUnreserve(agentID ids.AgentID, ag *refAgent) string {
	if ag == nil {
		return "no agent to reserve on"
	}
	r := p.rng
	if r.IntN(2) == 0 {
		free := p.ref.free(ag)
		var op Operation
		if dyn := free.Filter(func(x resources.Resource) bool { return x.Dynamic }); r.IntN(2) == 0 && !dyn.IsEmpty() {
			op = Operation{Type: Unreserve, Resources: p.piece(dyn)}
		} else {
			role := pick(r, propRoles[1:])
			part := p.piece(free.Unreserved().Filter(func(x resources.Resource) bool { return x.Type == resources.Scalar }))
			items := part.Items()
			for i := range items {
				items[i].Role, items[i].Dynamic = role, true
			}
			op = Operation{Type: Reserve, Resources: resources.Must(items...)}
		}
		desc := fmt.Sprintf("update-available %s %v %s", agentID, op.Type, op.Resources)
		if err := p.a.UpdateAvailable(agentID, []Operation{op}); err != nil {
			if !op.Resources.IsEmpty() {
				p.fatalf("%s: %v", desc, err)
			}
			return desc + " refused"
		}
		from, to, _ := op.convert()
		ag.total = ag.total.Subtract(from).Add(to)
		return desc
	}
	hs := slices.SortedFunc(maps.Keys(ag.holdings), func(x, y holder) int {
		return cmp.Or(cmp.Compare(x.fw, y.fw), cmp.Compare(x.role, y.role))
	})
	for _, h := range hs {
		held := ag.holdings[h]
		f := p.ref.frameworks[h.fw]
		if f == nil || r.IntN(2) == 0 {
			continue
		}
		var op Operation
		if dyn := held.Filter(func(x resources.Resource) bool { return x.Dynamic && x.Role == h.role }); !dyn.IsEmpty() && r.IntN(2) == 0 {
			op = Operation{Type: Unreserve, Resources: dyn}
		} else {
			items := held.Unreserved().Filter(func(x resources.Resource) bool { return x.Type == resources.Scalar }).Items()
			if len(items) == 0 || h.role == resources.Unreserved {
				continue
			}
			for i := range items {
				items[i].Role, items[i].Dynamic = h.role, true
			}
			op = Operation{Type: Reserve, Resources: resources.Must(items...)}
		}
		from, to, _ := op.convert()
		desc := fmt.Sprintf("update-allocation %s %s %s %v %s", h.fw, agentID, h.role, op.Type, op.Resources)
		got, err := p.a.UpdateAllocation(Allocation{Framework: h.fw, Agent: agentID, Role: h.role, Resources: from}, []Operation{op})
		if err != nil || !got.Equal(to) {
			p.fatalf("%s: %v, %s", desc, err, got)
		}
		ag.holdings[h] = held.Subtract(from).Add(to)
		ag.total = ag.total.Subtract(from).Add(to)
		return desc
	}
	return "nothing to reserve in a holding"
}

// rescind lists every holding as an outstanding offer and recovers what
// QuotaRescinds picks; then no limit may be exceeded by anything an
// unpicked holding could still give back.
func (p *propRun) rescind() string {
	all := p.allHoldings()
	picked := p.a.QuotaRescinds(all)
	for _, al := range picked {
		p.must("rescind", p.a.Recover(al, nil, p.now))
		p.ref.recover(al, nil, p.now)
	}
	for role, q := range p.ref.quotas {
		c := p.ref.consumed(role)
		for name, l := range q.limit {
			if c[name] <= l {
				continue
			}
			for _, al := range p.allHoldings() {
				if inTree(al.Role, role) && al.Resources.Unreserved().Quantity(name) > 0 {
					p.fatalf("after rescinds role %s consumes %v %s above its limit %v, and %+v was not picked", role, c[name], name, l, al)
				}
			}
		}
	}
	return fmt.Sprintf("rescind %d of %d", len(picked), len(all))
}

func (p *propRun) allHoldings() []Allocation {
	var all []Allocation
	for _, id := range slices.Sorted(maps.Keys(p.ref.agents)) {
		for h, res := range p.ref.agents[id].holdings {
			all = append(all, Allocation{Framework: h.fw, Agent: id, Role: h.role, Resources: res})
		}
	}
	// Map order must not leak into the choice, or a seed would not replay.
	slices.SortFunc(all, func(x, y Allocation) int {
		return cmp.Or(cmp.Compare(x.Agent, y.Agent), cmp.Compare(x.Framework, y.Framework), cmp.Compare(x.Role, y.Role))
	})
	return all
}

// recoverSomething gives back all or part of a random holding, with or
// without a filter.
func (p *propRun) recoverSomething() string {
	all := p.allHoldings()
	if len(all) == 0 {
		return "nothing to recover"
	}
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
