package allocator

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/cairnhq/cairn/resources"
)

// QuotaConfig is one role's quota, Mesos's quota.QuotaConfig: scalar
// quantities by resource name. A guarantee is a floor the allocator keeps
// headroom for; a limit is a ceiling the role's consumption never crosses
// through offers. An absent guarantee is 0, an absent limit is no limit. A
// config with neither removes the role's quota.
//
// Quota is hierarchical: a role's consumption includes its subroles', and
// (Mesos's rules) a role's guarantees must cover the sum of its direct
// subroles' guarantees, and a subrole's limit may not exceed its parent's.
type QuotaConfig struct {
	Role       string
	Guarantees map[string]float64
	Limits     map[string]float64
}

type quota struct {
	cfg       QuotaConfig
	guarantee qvec
	limit     qvec
	limited   []bool // by name index: limit applies
}

func (q *quota) hasGuarantee() bool { return q != nil && !q.guarantee.isZero() }

// limitAt returns the limit on name index i, and whether there is one.
func (q *quota) limitAt(i int) (resources.Fixed, bool) {
	if q == nil || i >= len(q.limited) || !q.limited[i] {
		return 0, false
	}
	return q.limit[i], true
}

// UpdateQuota applies configs all at once (UPDATE_QUOTA), or not at all
// when one is invalid. Unless force, it also refuses what Mesos refuses
// without force: a limit below the role's current consumption, and
// top-level guarantees that add up to more than the cluster has. After a
// lowered limit or a new guarantee, QuotaRescinds tells the master which
// outstanding offers to take back.
func (a *Allocator) UpdateQuota(configs []QuotaConfig, force bool) error {
	next := maps.Clone(a.quotas)
	seen := map[string]bool{}
	for _, c := range configs {
		if seen[c.Role] {
			return fmt.Errorf("update quota: role %q given twice", c.Role)
		}
		seen[c.Role] = true
		q, err := a.newQuota(c)
		if err != nil {
			return fmt.Errorf("update quota: role %q: %w", c.Role, err)
		}
		if q == nil {
			delete(next, c.Role)
		} else {
			next[c.Role] = q
		}
	}
	if err := a.checkQuotaTree(next); err != nil {
		return fmt.Errorf("update quota: %w", err)
	}
	if !force {
		if err := a.checkQuotaFits(next, seen); err != nil {
			return fmt.Errorf("update quota: %w (force overrides)", err)
		}
	}
	// Switch first: a role created below (an ancestor of a new quota's
	// role) must find its own, new, quota.
	a.quotas = next
	for _, role := range slices.Sorted(maps.Keys(seen)) {
		if q := next[role]; q != nil {
			a.ensureRole(role).quota = q
		} else if n := a.roles[role]; n != nil {
			n.quota = nil
			a.maybeDropRole(n)
		}
	}
	return nil
}

// newQuota validates c; nil means "no quota".
func (a *Allocator) newQuota(c QuotaConfig) (*quota, error) {
	if err := resources.ValidateRole(c.Role); err != nil {
		return nil, err
	}
	if c.Role == resources.Unreserved {
		return nil, fmt.Errorf("the default role cannot have quota")
	}
	if len(c.Guarantees) == 0 && len(c.Limits) == 0 {
		return nil, nil
	}
	q := &quota{cfg: QuotaConfig{Role: c.Role, Guarantees: map[string]float64{}, Limits: map[string]float64{}}}
	for name, v := range c.Guarantees {
		f, err := quotaValue(name, v)
		if err != nil {
			return nil, fmt.Errorf("guarantee: %w", err)
		}
		i := a.names.id(name)
		q.guarantee.grow(i + 1)
		q.guarantee[i] = f
		q.cfg.Guarantees[name] = f.Float()
	}
	for name, v := range c.Limits {
		f, err := quotaValue(name, v)
		if err != nil {
			return nil, fmt.Errorf("limit: %w", err)
		}
		i := a.names.id(name)
		q.limit.grow(i + 1)
		for len(q.limited) <= i {
			q.limited = append(q.limited, false)
		}
		q.limit[i], q.limited[i] = f, true
		q.cfg.Limits[name] = f.Float()
	}
	for i, g := range q.guarantee {
		if l, ok := q.limitAt(i); ok && g > l {
			return nil, fmt.Errorf("%s: guarantee %v above limit %v", a.names.names[i], g, l)
		}
	}
	return q, nil
}

func quotaValue(name string, v float64) (resources.Fixed, error) {
	if err := (resources.Resource{Name: name, Role: resources.Unreserved, Type: resources.Scalar}).Validate(); err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%s: %v is not a non-negative number", name, v)
	}
	if v > 0 && v < 0.001 {
		return 0, fmt.Errorf("%s: %v is below 0.001", name, v)
	}
	return resources.FixedFromFloat(v)
}

// checkQuotaTree applies the hierarchy rules to a whole configuration.
func (a *Allocator) checkQuotaTree(qs map[string]*quota) error {
	children := map[string]qvec{}
	for _, role := range slices.Sorted(maps.Keys(qs)) {
		parent, ok := resources.ParentRole(role)
		if !ok {
			continue
		}
		s := children[parent]
		s.add(qs[role].guarantee)
		children[parent] = s
		for anc, up := parent, true; up; anc, up = resources.ParentRole(anc) {
			pq := qs[anc]
			if pq == nil {
				continue
			}
			for i := range qs[role].limited {
				pl, ok := pq.limitAt(i)
				if cl, cok := qs[role].limitAt(i); ok && cok && cl > pl {
					return fmt.Errorf("role %q: %s limit above its ancestor %q's %v", role, a.names.names[i], anc, pl)
				}
			}
		}
	}
	for _, parent := range slices.Sorted(maps.Keys(children)) {
		var g qvec
		if pq := qs[parent]; pq != nil {
			g = pq.guarantee
		}
		for i, sum := range children[parent] {
			if sum > g.at(i) {
				return fmt.Errorf("role %q: subroles' %s guarantees (%v) exceed its own (%v)", parent, a.names.names[i], sum, g.at(i))
			}
		}
	}
	return nil
}

// checkQuotaFits is the capacity heuristic and the limit check.
func (a *Allocator) checkQuotaFits(qs map[string]*quota, changed map[string]bool) error {
	var sum qvec
	for role, q := range qs {
		if isTopLevel(role) {
			sum.add(q.guarantee)
		}
	}
	for i, g := range sum {
		if g > a.total.at(i) {
			return fmt.Errorf("guarantees of %v %s exceed the cluster's %v", g, a.names.names[i], a.total.at(i))
		}
	}
	for _, role := range slices.Sorted(maps.Keys(changed)) {
		q, n := qs[role], a.roles[role]
		if q == nil || n == nil {
			continue
		}
		for i, c := range n.consumed {
			if l, ok := q.limitAt(i); ok && c > l {
				return fmt.Errorf("role %q consumes %v %s, above the limit %v", role, c, a.names.names[i], l)
			}
		}
	}
	return nil
}

// Quotas returns every role's quota, sorted by role (GET_QUOTA).
func (a *Allocator) Quotas() []QuotaConfig {
	out := make([]QuotaConfig, 0, len(a.quotas))
	for _, role := range slices.Sorted(maps.Keys(a.quotas)) {
		c := a.quotas[role].cfg
		out = append(out, QuotaConfig{Role: c.Role, Guarantees: maps.Clone(c.Guarantees), Limits: maps.Clone(c.Limits)})
	}
	return out
}

// limitRoom is how much more of name index i role n may consume: the least,
// over n and its ancestors with a limit on i, of limit − consumed (0 when
// above), and false when nothing limits it.
func (a *Allocator) limitRoom(n *roleNode, i int) (resources.Fixed, bool) {
	room, limited := resources.Fixed(math.MaxInt64), false
	a.chain(n, func(x *roleNode) bool {
		if l, ok := x.quota.limitAt(i); ok {
			limited = true
			room = min(room, max(0, l-x.consumed.at(i)))
		}
		return true
	})
	return room, limited
}

// need is how much of name index i role n still needs for the guarantees
// of its chain: the least, over n and its ancestors that guarantee i, of
// guarantee − consumed; false when none guarantees i.
func (a *Allocator) need(n *roleNode, i int) (resources.Fixed, bool) {
	room, guaranteed := resources.Fixed(math.MaxInt64), false
	a.chain(n, func(x *roleNode) bool {
		if x.quota != nil && x.quota.guarantee.at(i) > 0 {
			guaranteed = true
			room = min(room, max(0, x.quota.guarantee.at(i)-x.consumed.at(i)))
		}
		return true
	})
	return room, guaranteed
}

// guaranteeRoot is the topmost role of n's chain with a guarantee, nil if
// none: the unit headroom is held for.
func (a *Allocator) guaranteeRoot(n *roleNode) *roleNode {
	var root *roleNode
	a.chain(n, func(x *roleNode) bool {
		if x.quota.hasGuarantee() {
			root = x
		}
		return true
	})
	return root
}

// unmet is what root still misses of its guarantee on name index i.
func unmet(root *roleNode, i int) resources.Fixed {
	if root == nil {
		return 0
	}
	return max(0, root.quota.guarantee.at(i)-root.consumed.at(i))
}
