package allocator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cairnhq/cairn/resources"
)

// checkInvariants recomputes every derived figure of a from the agents'
// holdings and totals, the one source of truth, and reports the first
// disagreement. Scripts and the property test run it after every event.
func checkInvariants(a *Allocator) error {
	if err := checkAgents(a); err != nil {
		return err
	}
	if err := checkRoles(a); err != nil {
		return err
	}
	if err := checkFrameworks(a); err != nil {
		return err
	}
	if err := checkSorters(a); err != nil {
		return err
	}
	return checkFilters(a)
}

func checkAgents(a *Allocator) error {
	var total qvec
	if len(a.agentOrder) != len(a.agents) {
		return fmt.Errorf("%d agents in the visit order, %d known", len(a.agentOrder), len(a.agents))
	}
	for i, ag := range a.agentOrder {
		if a.agents[ag.id] != ag || ag.pos != i || a.agentSlots[ag.slot] != ag {
			return fmt.Errorf("agent %s: order position, slot or map entry wrong", ag.id)
		}
		a.names.addRes(&total, ag.info.Total, 1, nil)
		var sum resources.Resources
		seen := map[holder]bool{}
		for _, hd := range ag.holdings {
			if hd.res.IsEmpty() || seen[hd.holder] {
				return fmt.Errorf("agent %s: empty or duplicate holding for %v", ag.id, hd.holder)
			}
			seen[hd.holder] = true
			sum = sum.Add(hd.res)
		}
		if !sum.Equal(ag.allocated) {
			return fmt.Errorf("agent %s: allocated %q, holdings add up to %q", ag.id, ag.allocated, sum)
		}
		if free := ag.info.Total.Subtract(ag.allocated); !free.Equal(ag.free) {
			return fmt.Errorf("agent %s: free %q, want %q", ag.id, ag.free, free)
		}
		if ag.reserved != ag.info.Total.HasReserved() || ag.hasGPUs != (ag.info.Total.Quantity("gpus") > 0) {
			return fmt.Errorf("agent %s: reserved/gpus flags wrong", ag.id)
		}
	}
	if !total.equal(a.total) {
		return fmt.Errorf("total %v, agents add up to %v", a.total, total)
	}
	return nil
}

func checkRoles(a *Allocator) error {
	direct := map[string]qvec{}
	consumed := map[string]qvec{}
	reserved := map[string]qvec{}
	held := map[string]int{}
	reservations := map[string]int{}
	addUp := func(m map[string]qvec, role string, q qvec) {
		for r, up := role, true; up; r, up = resources.ParentRole(r) {
			v := m[r]
			v.add(q)
			m[r] = v
		}
	}
	for _, ag := range a.agentOrder {
		for _, hd := range ag.holdings {
			h, res := hd.holder, hd.res
			v := direct[h.role]
			v.add(a.names.of(res))
			direct[h.role] = v
			held[h.role]++
			addUp(consumed, h.role, a.names.of(res.Filter(unreservedOnly)))
		}
		roles := map[string]bool{}
		for r := range ag.info.Total.All() {
			if r.Role == resources.Unreserved {
				continue
			}
			roles[r.Role] = true
			if r.Type == resources.Scalar {
				q := a.names.of(resources.Must(r))
				v := reserved[r.Role]
				v.add(q)
				reserved[r.Role] = v
				addUp(consumed, r.Role, q)
			}
		}
		for r := range roles {
			reservations[r]++
		}
	}
	deep := 0
	for name, n := range a.roles {
		if n.name != name || n.client.node != n || n.client.name != name {
			return fmt.Errorf("role %s: names wrong", name)
		}
		if p, ok := resources.ParentRole(name); ok != (n.parent != a.root) || (ok && a.roles[p] != n.parent) {
			return fmt.Errorf("role %s: parent wrong", name)
		}
		if !a.roleNeeded(n) {
			return fmt.Errorf("role %s is tracked though nothing needs it", name)
		}
		var sub qvec
		children := 0
		for other, o := range a.roles {
			if resources.IsSubrole(other, name) || other == name {
				sub.add(direct[other])
			}
			if o.parent == n {
				children++
			}
		}
		if children != n.children || (children > 0) != (n.kids != nil && n.children > 0) {
			return fmt.Errorf("role %s: %d children counted, %d present", name, n.children, children)
		}
		if children > 0 {
			deep++
		}
		if !n.direct.equal(direct[name]) || !n.client.alloc.equal(sub) || n.held != held[name] {
			return fmt.Errorf("role %s: direct %v subtree %v held %d; holdings say %v, %v, %d",
				name, n.direct, n.client.alloc, n.held, direct[name], sub, held[name])
		}
		wantSelf := children > 0 && (n.subscribers > 0 || n.held > 0)
		if (n.self != nil) != wantSelf || (n.self != nil && !n.self.alloc.equal(n.direct)) {
			return fmt.Errorf("role %s: self client wrong", name)
		}
		if !n.reserved.equal(reserved[name]) || n.reservations != reservations[name] || !n.consumed.equal(consumed[name]) {
			return fmt.Errorf("role %s: reserved %v (%d agents) consumed %v; agents say %v (%d), %v",
				name, n.reserved, n.reservations, n.consumed, reserved[name], reservations[name], consumed[name])
		}
		if n.quota != a.quotas[name] {
			return fmt.Errorf("role %s: quota not the configured one", name)
		}
		if n.client.weight != a.weight(name) {
			return fmt.Errorf("role %s: weight %v, configured %v", name, n.client.weight, a.weight(name))
		}
	}
	if deep != a.deep {
		return fmt.Errorf("%d roles with subroles, counted %d", deep, a.deep)
	}
	for role := range held {
		if a.roles[role] == nil {
			return fmt.Errorf("role %s has holdings but is not tracked", role)
		}
	}
	for role := range a.quotas {
		if a.roles[role] == nil {
			return fmt.Errorf("role %s has quota but is not tracked", role)
		}
	}
	return nil
}

func checkFrameworks(a *Allocator) error {
	type key struct{ fw, role string }
	alloc := map[key]qvec{}
	held := map[key]int{}
	for _, ag := range a.agentOrder {
		for _, hd := range ag.holdings {
			h, res := hd.holder, hd.res
			k := key{string(h.fw), h.role}
			v := alloc[k]
			v.add(a.names.of(res))
			alloc[k] = v
			held[k]++
		}
	}
	subscribers, offerable, subs := map[string]int{}, map[string]int{}, map[string]int{}
	for id, f := range a.frameworks {
		if f.id != id || !slices.IsSorted(f.roles) {
			return fmt.Errorf("framework %s: id or roles wrong", id)
		}
		nf := 0
		for role, s := range f.subs {
			k := key{string(id), role}
			subscribed := slices.Contains(f.roles, role)
			if s.fw != f || s.node != a.roles[role] || a.subSlots[s.slot] != s || s.subscribed != subscribed {
				return fmt.Errorf("framework %s role %s: subscription wrong", id, role)
			}
			if !s.subscribed && held[k] == 0 {
				return fmt.Errorf("framework %s role %s: subscription kept with no reason", id, role)
			}
			if !s.client.alloc.equal(alloc[k]) || s.held != held[k] {
				return fmt.Errorf("framework %s role %s: allocated %v held %d; holdings say %v, %d",
					id, role, s.client.alloc, s.held, alloc[k], held[k])
			}
			if want := s.subscribed && !s.suppressed && f.active; s.client.active != want {
				return fmt.Errorf("framework %s role %s: offerable %v, want %v", id, role, s.client.active, want)
			}
			if s.client.active {
				offerable[role]++
			}
			if s.subscribed {
				subscribers[role]++
			}
			subs[role]++
			nf += s.nfilters
		}
		for _, role := range f.roles {
			if f.subs[role] == nil {
				return fmt.Errorf("framework %s subscribes to %s without a subscription", id, role)
			}
		}
		for k, n := range held {
			if k.fw == string(id) && n > 0 && f.subs[k.role] == nil {
				return fmt.Errorf("framework %s holds under %s without a subscription", id, k.role)
			}
		}
		if nf != f.nfilters {
			return fmt.Errorf("framework %s: %d filters counted, subscriptions say %d", id, f.nfilters, nf)
		}
	}
	for name, n := range a.roles {
		for i, s := range n.members {
			if s.member != i || s.node != n || a.subSlots[s.slot] != s {
				return fmt.Errorf("role %s: member %d wrong", name, i)
			}
		}
		if n.subscribers != subscribers[name] || n.offerable != offerable[name] || n.subs != subs[name] || len(n.members) != n.subs {
			return fmt.Errorf("role %s: subscribers %d offerable %d subs %d; frameworks say %d, %d, %d",
				name, n.subscribers, n.offerable, n.subs, subscribers[name], offerable[name], subs[name])
		}
	}
	for slot, s := range a.subSlots {
		if s != nil && (s.slot != int32(slot) || s.fw.subs[s.node.name] != s || a.frameworks[s.fw.id] != s.fw) {
			return fmt.Errorf("subscription slot %d is stale", slot)
		}
	}
	return nil
}

func checkFilters(a *Allocator) error {
	total := 0
	perSub := map[int32]int{}
	for _, ag := range a.agentOrder {
		af := &ag.filters
		if af.live == 0 {
			if len(af.entries) > 0 || len(af.any) > 0 {
				return fmt.Errorf("agent %s: no live filters, entries kept", ag.id)
			}
			continue
		}
		live := 0
		count := map[int32]int32{}
		for _, e := range af.entries {
			if e.sub < 0 {
				continue
			}
			live++
			count[e.sub]++
			s := a.subSlots[e.sub]
			if s == nil || !s.subscribed {
				return fmt.Errorf("agent %s: filter of a dropped or unsubscribed subscription %d", ag.id, e.sub)
			}
			if af.refusals[e.refusal].refs <= 0 {
				return fmt.Errorf("agent %s: filter refers to a free refusal", ag.id)
			}
		}
		if live == 0 || live != af.live {
			return fmt.Errorf("agent %s: %d live filters, counted %d", ag.id, live, af.live)
		}
		for _, sub := range slices.Sorted(maps.Keys(count)) {
			n := count[sub]
			if !af.any.has(sub) || af.dups[sub] != n-1 {
				return fmt.Errorf("agent %s: subscription %d has %d filters, any=%v dups=%d", ag.id, sub, n, af.any.has(sub), af.dups[sub])
			}
			perSub[sub] += int(n)
		}
		covering := map[int32]bool{}
		for _, e := range af.entries {
			if e.sub >= 0 && a.coversNow(af, e.refusal, a.subSlots[e.sub]) {
				covering[e.sub] = true
			}
		}
		for sub := range count {
			if af.covers.has(sub) != covering[sub] {
				return fmt.Errorf("agent %s: covers bit %d is %v, filters say %v", ag.id, sub, af.covers.has(sub), covering[sub])
			}
		}
		for w, bits := range af.any {
			for b := range 64 {
				sub := int32(w*64 + b)
				if bits&(1<<b) != 0 && count[sub] == 0 {
					return fmt.Errorf("agent %s: any bit %d without a filter", ag.id, sub)
				}
				if af.covers.has(sub) && !af.any.has(sub) {
					return fmt.Errorf("agent %s: covers bit %d without any bit", ag.id, sub)
				}
			}
		}
		total += live
	}
	for slot, s := range a.subSlots {
		if s != nil && s.nfilters != perSub[int32(slot)] {
			return fmt.Errorf("subscription %s/%s: %d filters counted, %d present", s.fw.id, s.node.name, s.nfilters, perSub[int32(slot)])
		}
	}
	if total != a.nfilters {
		return fmt.Errorf("%d filters counted, %d present", a.nfilters, total)
	}
	return nil
}

// checkSorters verifies the ordered sorters' internal state: sorted by the
// keys clients were placed with, and every client that is not queued for
// repositioning placed with its current key.
func checkSorters(a *Allocator) error {
	check := func(where string, s sorter, gen uint64) error {
		var o *ordered
		switch x := s.(type) {
		case *drf:
			o = &x.ordered
		case *priority:
			o = &x.ordered
		default:
			return nil
		}
		for i, c := range o.order {
			if !c.active {
				return fmt.Errorf("%s: inactive client %s in the order", where, c.name)
			}
			if i > 0 && cmpKey(o.order[i-1].key, o.order[i-1].name, c.key, c.name) >= 0 {
				return fmt.Errorf("%s: %s (%v) before %s (%v)", where, o.order[i-1].name, o.order[i-1].key, c.name, c.key)
			}
			if gen == a.totalGen && !o.resort && !c.stale && o.keyOf(c) != c.key {
				return fmt.Errorf("%s: client %s placed with key %v, its key is %v, not queued", where, c.name, c.key, o.keyOf(c))
			}
		}
		return nil
	}
	if err := check("root", a.root.kids, a.root.kidsGen); err != nil {
		return err
	}
	for name, n := range a.roles {
		if n.kids != nil {
			if err := check(name+" subroles", n.kids, n.kidsGen); err != nil {
				return err
			}
		}
		if err := check(name+" frameworks", n.fws, n.fwsGen); err != nil {
			return err
		}
	}
	return nil
}
