package allocator

import (
	"maps"
	"slices"

	"github.com/cairnhq/cairn/resources"
)

// QuotaRescinds picks, among the outstanding offers the master lists (in
// the order it would rather lose them), those to rescind after a quota
// change: enough that no role's consumption stays above a limit, and enough
// that available headroom covers what the unmet guarantees need again, as
// far as offers can. Tasks are not the allocator's to revoke: only the
// listed offers are candidates. The master rescinds each one returned and
// Recovers it without a filter. It returns nil when nothing needs to go.
func (a *Allocator) QuotaRescinds(offers []Allocation) []Allocation {
	if len(a.quotas) == 0 {
		return nil
	}
	consumed := map[*roleNode]qvec{}
	for _, n := range a.roles {
		consumed[n] = n.consumed.clone()
	}
	unres := make([]qvec, len(offers))
	nodes := make([]*roleNode, len(offers))
	for i, o := range offers {
		nodes[i] = a.roles[o.Role]
		unres[i] = a.names.of(o.Resources.Filter(unreservedOnly))
	}
	picked := make([]bool, len(offers))
	pick := func(i int) {
		picked[i] = true
		a.chain(nodes[i], func(x *roleNode) bool {
			c := consumed[x]
			c.sub(unres[i])
			consumed[x] = c
			return true
		})
	}
	// Limits: take offers of the role's subtree until it fits.
	for _, role := range slices.Sorted(maps.Keys(a.quotas)) {
		qt, n := a.quotas[role], a.roles[role]
		for i := range qt.limited {
			l, ok := qt.limitAt(i)
			for j := 0; ok && consumed[n].at(i) > l && j < len(offers); j++ {
				if !picked[j] && nodes[j] != nil && unres[j].at(i) > 0 && inSubtree(nodes[j], n) {
					pick(j)
				}
			}
		}
	}
	// Guarantees: free headroom while each pick helps.
	var avail qvec
	for _, ag := range a.agentOrder {
		if ag.active {
			a.names.addRes(&avail, ag.free, 1, unreservedOnly)
		}
	}
	for j, o := range offers {
		if picked[j] && nodes[j] != nil && a.agents[o.Agent] != nil && a.agents[o.Agent].active {
			avail.add(unres[j])
		}
	}
	required := func() qvec {
		var req qvec
		for role, qt := range a.quotas {
			n := a.roles[role]
			if !qt.hasGuarantee() || a.guaranteeRoot(n) != n {
				continue
			}
			req.grow(len(qt.guarantee))
			for i, g := range qt.guarantee {
				req[i] += max(0, g-consumed[n].at(i))
			}
		}
		return req
	}
	for i := range a.names.names {
		for j, o := range offers {
			req := required()
			if avail.at(i) >= req.at(i) {
				break
			}
			ag := a.agents[o.Agent]
			if picked[j] || nodes[j] == nil || ag == nil || !ag.active || unres[j].at(i) == 0 {
				continue
			}
			gap := req.at(i) - avail.at(i)
			pick(j)
			if after := required().at(i) - avail.at(i) - unres[j].at(i); after >= gap {
				// Taking it back would only raise its own role's need as
				// much: leave it.
				picked[j] = false
				a.chain(nodes[j], func(x *roleNode) bool {
					c := consumed[x]
					c.add(unres[j])
					consumed[x] = c
					return true
				})
				continue
			}
			avail.add(unres[j])
		}
	}
	var out []Allocation
	for j, o := range offers {
		if picked[j] {
			out = append(out, o)
		}
	}
	return out
}

func inSubtree(n, top *roleNode) bool {
	return n == top || resources.IsSubrole(n.name, top.name)
}
