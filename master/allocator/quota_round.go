package allocator

import (
	"math"

	"github.com/cairnhq/cairn/resources"
)

// quotaRound is the headroom arithmetic of one Allocate with quota.
// Available headroom is what active agents have free and unreserved;
// required headroom is what the guarantees still miss, summed over the
// topmost guaranteed roles (a role's guarantee covers its subroles'). An
// allocation may not make available fall below required, except by what it
// itself gives a role towards its own unmet guarantee.
type quotaRound struct {
	avail, required qvec
}

func (a *Allocator) newQuotaRound() *quotaRound {
	q := &quotaRound{}
	for _, ag := range a.agentOrder {
		if ag.active {
			a.names.addRes(&q.avail, ag.free, 1, unreservedOnly)
		}
	}
	q.required = a.requiredHeadroom()
	return q
}

// requiredHeadroom sums the unmet guarantees of the guarantee roots.
func (a *Allocator) requiredHeadroom() qvec {
	var req qvec
	for role, qt := range a.quotas {
		n := a.roles[role]
		if !qt.hasGuarantee() || a.guaranteeRoot(n) != n {
			continue
		}
		req.grow(len(qt.guarantee))
		for i := range qt.guarantee {
			req[i] += unmet(n, i)
		}
	}
	return req
}

// granted accounts for an allocation made this round.
func (q *quotaRound) granted(a *Allocator, res resources.Resources) {
	a.names.addRes(&q.avail, res, -1, unreservedOnly)
	q.required = a.requiredHeadroom()
}

// headroom is how much of name index i a role under root may take without
// eating into what other guarantees need.
func (q *quotaRound) headroom(i int, root *roleNode) resources.Fixed {
	return max(0, q.avail.at(i)-q.required.at(i)) + unmet(root, i)
}

// cap cuts cand's unreserved scalars down to what n may have: never past a
// limit of its chain; in stage 1 only what its guarantees still need (plus
// names it has no guarantee for, within headroom, when it gets anything at
// all); in stage 2 within headroom. Reserved resources are never cut: they
// count as consumed whether allocated or not.
func (q *quotaRound) cap(a *Allocator, n *roleNode, cand resources.Resources, stage int) resources.Resources {
	root := a.guaranteeRoot(n)
	out, guaranteed := cand, false
	for e := range cand.All() {
		if e.Role != resources.Unreserved || e.Type != resources.Scalar {
			continue
		}
		i := a.names.id(e.Name)
		room, limited := a.limitRoom(n, i)
		if !limited {
			room = math.MaxInt64
		}
		if need, ok := a.need(n, i); stage == 1 && ok {
			room = min(room, need)
			guaranteed = guaranteed || room > 0
		} else {
			room = min(room, q.headroom(i, root))
		}
		if e.Scalar > room {
			out = out.CapScalar(e.Name, room)
		}
	}
	if stage == 1 && !guaranteed && !out.HasReserved() {
		return resources.Resources{}
	}
	return out
}

// needs reports whether n's chain still misses part of a guarantee that n
// could help with: n takes part in the first, guarantees-only stage.
func (a *Allocator) needs(n *roleNode) bool {
	for i := range a.names.names {
		if need, ok := a.need(n, i); ok && need > 0 {
			return true
		}
	}
	return false
}

func (a *Allocator) anyNeeds() bool {
	for _, n := range a.roles {
		if n.offerable > 0 && a.needs(n) {
			return true
		}
	}
	return false
}
