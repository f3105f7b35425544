package allocator

import (
	"strings"

	"github.com/cairnhq/cairn/resources"
)

// roleNode is one role of the hierarchy. A role is tracked while anything
// needs it: a framework subscribes to it or holds resources under it, an
// agent reserves resources for it, it has quota, or a subrole is tracked.
//
// Shares are hierarchical: a node's client (in its parent's sorter) holds
// the allocation of its whole subtree, so "eng" competes with "ops" with
// everything "eng/web" and "eng/db" hold. A role that has subroles and also
// frameworks of its own competes with its subroles through a self client
// holding only its direct allocation (Mesos's "." leaf).
type roleNode struct {
	name     string
	parent   *roleNode // the root for a top-level role
	children int       // tracked subroles
	kids     sorter    // the subroles' clients and self; nil until the first subrole
	kidsGen  uint64    // totalGen kids last saw
	client   client    // this subtree, in parent.kids
	self     *client   // in kids while there are subroles and direct frameworks or holdings

	fws     sorter // the frameworks' subscriptions
	fwsGen  uint64
	subs    int    // subscriptions in fws
	members []*sub // the same, for status reports

	subscribers  int // frameworks subscribed
	held         int // direct holdings (framework × agent)
	offerable    int // subscriptions offers may go to (active, not suppressed)
	reservations int // agents reserving resources for exactly this role

	direct   qvec // held directly under this role
	reserved qvec // reserved for exactly this role, over all agents
	// consumed is quota consumption of the subtree, Mesos's rule: what is
	// allocated unreserved plus everything reserved (allocated or not).
	consumed qvec
	quota    *quota
}

// ensureRole returns the node for name, creating it and its ancestors. The
// name must be valid.
func (a *Allocator) ensureRole(name string) *roleNode {
	if n, ok := a.roles[name]; ok {
		return n
	}
	parent := a.root
	if p, ok := resources.ParentRole(name); ok {
		parent = a.ensureRole(p)
	}
	n := &roleNode{name: name, parent: parent, fws: a.newSorter(a.cfg.FrameworkSorter), fwsGen: a.totalGen}
	n.client = client{name: name, weight: a.weight(name), active: true, node: n}
	n.quota = a.quotas[name]
	a.roles[name] = n
	if parent.kids == nil {
		parent.kids = a.newSorter(a.cfg.RoleSorter)
		parent.kidsGen = a.totalGen
	}
	if parent.children == 0 && parent != a.root {
		a.deep++
	}
	parent.children++
	parent.kids.add(&n.client)
	a.refreshSelf(parent)
	a.roleGen++
	return n
}

func (a *Allocator) roleNeeded(n *roleNode) bool {
	return n.subscribers > 0 || n.held > 0 || n.reservations > 0 || n.subs > 0 ||
		n.children > 0 || n.quota != nil
}

// maybeDropRole forgets n, and then its ancestors, once nothing needs them.
// n may already be gone.
func (a *Allocator) maybeDropRole(n *roleNode) {
	for n != a.root && a.roles[n.name] == n && !a.roleNeeded(n) {
		p := n.parent
		p.kids.remove(&n.client)
		p.children--
		if p.children == 0 && p != a.root {
			a.deep--
		}
		delete(a.roles, n.name)
		a.refreshSelf(p)
		a.roleGen++
		n = p
	}
}

// refreshSelf keeps n's self client iff n has subroles and direct
// frameworks or holdings.
func (a *Allocator) refreshSelf(n *roleNode) {
	if n == a.root {
		return
	}
	want := n.children > 0 && (n.subscribers > 0 || n.held > 0)
	switch {
	case want && n.self == nil:
		n.self = &client{name: n.name, weight: n.client.weight, alloc: n.direct.clone(), active: true, node: n, self: true}
		n.kids.add(n.self)
		a.roleGen++
	case !want && n.self != nil:
		n.kids.remove(n.self)
		n.self = nil
		a.roleGen++
	}
}

// addRoleAlloc adds (sign +1) or takes away (−1) q from n's direct
// allocation and from the subtree allocation of n and every ancestor.
func (a *Allocator) addRoleAlloc(n *roleNode, q qvec, sign int) {
	if sign > 0 {
		n.direct.add(q)
	} else {
		n.direct.sub(q)
	}
	if n.self != nil {
		n.self.alloc = append(n.self.alloc[:0], n.direct...)
		n.kids.update(n.self)
	}
	for x := n; x != a.root; x = x.parent {
		if sign > 0 {
			x.client.alloc.add(q)
		} else {
			x.client.alloc.sub(q)
		}
		x.parent.kids.update(&x.client)
	}
	a.roleGen++
}

// addConsumed adds (sign +1) or takes away (−1) q from the quota
// consumption of n's subtree and every ancestor's.
func (a *Allocator) addConsumed(n *roleNode, q qvec, sign int) {
	for x := n; x != a.root; x = x.parent {
		if sign > 0 {
			x.consumed.add(q)
		} else {
			x.consumed.sub(q)
		}
	}
}

// sortKids returns n's subroles (and self) in the role policy's order,
// first telling the sorter of a changed pool.
func (a *Allocator) sortKids(n *roleNode) []*client {
	if n.kids == nil {
		return nil
	}
	if n.kidsGen != a.totalGen {
		n.kids.setTotal(a.total)
		n.kidsGen = a.totalGen
	}
	return n.kids.sort()
}

// sortFrameworks returns n's offerable subscriptions in the framework
// policy's order.
func (a *Allocator) sortFrameworks(n *roleNode) []*client {
	if n.fwsGen != a.totalGen {
		n.fws.setTotal(a.total)
		n.fwsGen = a.totalGen
	}
	return n.fws.sort()
}

// roleOrder returns the roles in the order an agent is offered to them: a
// depth-first walk of the tree, each level in the role policy's order. With
// only top-level roles that is the root sorter's own slice; otherwise the
// walk is cached until a share, weight or the tree changes (except under a
// random policy, which draws afresh for every agent). Each element is a
// role's subtree client for a leaf, or a self client; either way .node is
// the role offered to.
func (a *Allocator) roleOrder() []*client {
	top := a.sortKids(a.root)
	if a.deep == 0 {
		return top
	}
	if a.leafGen == a.roleGen && a.leafTotalGen == a.totalGen && a.leafGen != 0 && a.cfg.RoleSorter != SorterRandom {
		return a.leafBuf
	}
	a.leafBuf = a.flatten(a.leafBuf[:0], top)
	a.leafGen, a.leafTotalGen = a.roleGen, a.totalGen
	return a.leafBuf
}

func (a *Allocator) flatten(buf, level []*client) []*client {
	for _, c := range level {
		if c.self || c.node.children == 0 {
			buf = append(buf, c)
			continue
		}
		buf = a.flatten(buf, a.sortKids(c.node))
	}
	return buf
}

// weight is the configured weight of role, 1 by default.
func (a *Allocator) weight(role string) float64 {
	if w, ok := a.weights[role]; ok {
		return w
	}
	return 1
}

// setWeight changes a tracked role's weight in its sorters.
func (a *Allocator) setWeight(n *roleNode, w float64) {
	n.client.weight = w
	n.parent.kids.update(&n.client)
	if n.self != nil {
		n.self.weight = w
		n.kids.update(n.self)
	}
	a.roleGen++
}

// chain calls f for n and each of its ancestors, nearest first, until f
// returns false.
func (a *Allocator) chain(n *roleNode, f func(*roleNode) bool) {
	for x := n; x != a.root; x = x.parent {
		if !f(x) {
			return
		}
	}
}

// isTopLevel reports whether role has no parent role.
func isTopLevel(role string) bool { return !strings.Contains(role, "/") }
