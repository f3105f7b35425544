package allocator

import (
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// holder keys an agent's holdings: one framework under one role. The
// framework may not be added (yet): an agent re-registering after a master
// failover reports tasks of frameworks that have not re-subscribed.
type holder struct {
	fw   ids.FrameworkID
	role string
}

// holdingList is an agent's holdings. They are few (one per framework and
// role with something there), so a slice beats a map: no hashing, and one
// cache line instead of a map's scattered groups.
type holdingList []holding

type holding struct {
	holder
	res resources.Resources
}

func (l holdingList) get(h holder) (resources.Resources, bool) {
	for i := range l {
		if l[i].holder == h {
			return l[i].res, true
		}
	}
	return resources.Resources{}, false
}

// set replaces or adds h's holding; res must not be empty.
func (l *holdingList) set(h holder, res resources.Resources) {
	for i := range *l {
		if (*l)[i].holder == h {
			(*l)[i].res = res
			return
		}
	}
	*l = append(*l, holding{h, res})
}

func (l *holdingList) del(h holder) {
	for i := range *l {
		if (*l)[i].holder == h {
			last := len(*l) - 1
			(*l)[i] = (*l)[last]
			(*l)[last] = holding{}
			*l = (*l)[:last]
			return
		}
	}
}

// sub is a framework's place in one role: the client in the role's
// framework sorter. It exists while the framework subscribes to the role or
// holds something under it.
type sub struct {
	slot       int32 // index in Allocator.subSlots: the filter bitsets' bit
	member     int   // index in node.members
	fw         *framework
	node       *roleNode
	client     client
	subscribed bool
	suppressed bool
	held       int // agents holding something under this role
	nfilters   int
}

// track records that fw holds res on ag under role, updating the agent, the
// role tree and the sorters. Empty resources change nothing.
func (a *Allocator) track(fw ids.FrameworkID, role string, ag *agent, res resources.Resources) {
	if res.IsEmpty() {
		return
	}
	n := a.ensureRole(role)
	var s *sub
	if f := a.frameworks[fw]; f != nil {
		s = a.ensureSub(f, n)
	}
	a.trackIn(fw, n, s, ag, res, false)
}

// trackIn is track with the role and subscription looked up. whole says res
// is all of ag's free resources, which spares computing what is left.
func (a *Allocator) trackIn(fw ids.FrameworkID, n *roleNode, s *sub, ag *agent, res resources.Resources, whole bool) {
	h := holder{fw, n.name}
	cur, existed := ag.holdings.get(h)
	if whole && ag.fits && existed && len(ag.holdings) == 1 {
		// The only holder takes the rest: it holds the whole agent, the
		// total itself, with nothing to add (a framework offered the rest
		// of an agent it runs a task on).
		ag.holdings.set(h, ag.info.Total)
	} else {
		ag.holdings.set(h, cur.Add(res))
	}
	if whole {
		ag.allocateAll()
	} else {
		ag.allocated = ag.allocated.Add(res)
		ag.refreshFree()
	}

	q, u := a.quantitiesOn(ag, res)
	a.addRoleAlloc(n, q, +1)
	a.addConsumed(n, u, +1)
	if !existed {
		n.held++
		a.refreshSelf(n)
	}
	if s != nil {
		if !existed {
			s.held++
		}
		s.client.alloc.add(q)
		n.fws.update(&s.client)
	}
}

// untrack is track's inverse; res must be part of the holding.
func (a *Allocator) untrack(fw ids.FrameworkID, role string, ag *agent, res resources.Resources) {
	if res.IsEmpty() {
		return
	}
	n := a.roles[role]
	h := holder{fw, role}
	gone := false
	cur, _ := ag.holdings.get(h)
	left := resources.Resources{}
	if c := &ag.cache; cur.Same(ag.info.Total) && res.Same(c.free) && c.fits {
		// The whole agent less what was free: what was held before, the
		// same value, so that the agent's free resources stay cached.
		left = c.allocated
	} else {
		left = cur.Subtract(res)
	}
	if left.IsEmpty() {
		gone = true
		ag.holdings.del(h)
	} else {
		ag.holdings.set(h, left)
	}
	// Re-add the holdings rather than subtract: should two reports ever claim
	// the same port, subtracting one claim must not free the other.
	var allocated resources.Resources
	for _, held := range ag.holdings {
		allocated = allocated.Add(held.res) // the holding itself when it is the only one
	}
	ag.allocated = allocated
	ag.refreshFree()

	q, u := a.quantitiesOn(ag, res)
	a.addRoleAlloc(n, q, -1)
	a.addConsumed(n, u, -1)
	if gone {
		n.held--
		a.refreshSelf(n)
	}
	if f := a.frameworks[fw]; f != nil {
		if s := f.subs[role]; s != nil {
			if gone {
				s.held--
			}
			s.client.alloc.sub(q)
			n.fws.update(&s.client)
			a.maybeDropSub(s)
		}
	}
	a.maybeDropRole(n)
}

// quantitiesOn is quantities, remembering them for the agent's usual free
// resources: what most allocations and recoveries move.
func (a *Allocator) quantitiesOn(ag *agent, res resources.Resources) (q, u qvec) {
	c := &ag.cache
	if !res.Same(c.free) || res.IsEmpty() {
		return a.quantities(res)
	}
	if c.q == nil {
		q, u := a.quantities(res)
		// Remember from the second use on: an agent offered once needs
		// no copy.
		if c.uses++; c.uses > 1 {
			c.q, c.u = q.clone(), u.clone()
		}
		return q, u
	}
	return c.q, c.u
}

// quantities returns the scalar quantities of res, all and unreserved only,
// in scratch vectors valid until the next call.
func (a *Allocator) quantities(res resources.Resources) (q, u qvec) {
	a.qbuf, a.ubuf = a.qbuf[:0], a.ubuf[:0]
	a.qbuf.grow(len(a.names.names))
	a.ubuf.grow(len(a.names.names))
	for r := range res.All() {
		if r.Type != resources.Scalar {
			continue
		}
		i := a.names.id(r.Name)
		a.qbuf.grow(i + 1)
		a.ubuf.grow(i + 1)
		a.qbuf[i] += r.Scalar
		if r.Role == resources.Unreserved {
			a.ubuf[i] += r.Scalar
		}
	}
	return a.qbuf, a.ubuf
}

// ensureSub returns f's subscription to n, creating it unsubscribed.
func (a *Allocator) ensureSub(f *framework, n *roleNode) *sub {
	if s := f.subs[n.name]; s != nil {
		return s
	}
	s := &sub{fw: f, node: n}
	s.client = client{name: string(f.id), weight: 1, sub: s}
	if k := len(a.freeSubSlots); k > 0 {
		s.slot = a.freeSubSlots[k-1]
		a.freeSubSlots = a.freeSubSlots[:k-1]
		a.subSlots[s.slot] = s
	} else {
		s.slot = int32(len(a.subSlots))
		a.subSlots = append(a.subSlots, s)
	}
	f.subs[n.name] = s
	n.subs++
	s.member = len(n.members)
	n.members = append(n.members, s)
	n.fws.add(&s.client)
	return s
}

// maybeDropSub forgets s once f neither subscribes to the role nor holds
// anything under it. Its filters are already gone (they exist only for
// subscribed roles).
func (a *Allocator) maybeDropSub(s *sub) {
	if s.subscribed || s.held > 0 {
		return
	}
	n := s.node
	a.setOfferable(s, false)
	n.fws.remove(&s.client)
	n.subs--
	last := n.members[len(n.members)-1]
	n.members[s.member], last.member = last, s.member
	n.members[len(n.members)-1] = nil
	n.members = n.members[:len(n.members)-1]
	delete(s.fw.subs, n.name)
	a.subSlots[s.slot] = nil
	a.freeSubSlots = append(a.freeSubSlots, s.slot)
	a.maybeDropRole(n)
}

// refreshOfferable puts s in or out of its role's framework order: offers
// go only to active frameworks, for roles they subscribe to and do not
// suppress.
func (a *Allocator) refreshOfferable(s *sub) {
	a.setOfferable(s, s.subscribed && !s.suppressed && s.fw.active)
}

func (a *Allocator) setOfferable(s *sub, on bool) {
	if s.client.active == on {
		return
	}
	s.node.fws.setActive(&s.client, on)
	if on {
		s.node.offerable++
	} else {
		s.node.offerable--
	}
}
