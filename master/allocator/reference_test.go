package allocator

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// reference is a deliberately naive allocator for the property test: no
// indexes, no incremental sorting, no caches, no role tree. Every decision
// recomputes shares, consumption and headroom from the agents' holdings and
// totals, so it is slow and obviously right, and the real allocator must
// make exactly the same decisions (under the drf and priority policies;
// random orders are checked for safety only).
type reference struct {
	interval   time.Duration
	min        []resources.Resources
	roleSorter string
	fwSorter   string
	agents     map[ids.AgentID]*refAgent
	frameworks map[ids.FrameworkID]*refFramework
	weights    map[string]float64
	quotas     map[string]refQuota
}

type refAgent struct {
	total    resources.Resources
	active   bool
	holdings map[holder]resources.Resources
}

type refFramework struct {
	roles      []string
	suppressed map[string]bool
	active     bool
	gpu        bool
	filters    []refFilter
}

type refFilter struct {
	role    string
	agent   ids.AgentID
	refused resources.Resources
	expires time.Time
}

// refQuota holds guarantees and limits by resource name.
type refQuota struct {
	guarantee map[string]resources.Fixed
	limit     map[string]resources.Fixed
}

type qmap map[string]resources.Fixed

func newReference(interval time.Duration, roleSorter, fwSorter string) *reference {
	return &reference{
		interval: interval, min: DefaultMinAllocatable(),
		roleSorter: roleSorter, fwSorter: fwSorter,
		agents:     map[ids.AgentID]*refAgent{},
		frameworks: map[ids.FrameworkID]*refFramework{},
		weights:    map[string]float64{},
		quotas:     map[string]refQuota{},
	}
}

func (r *reference) free(ag *refAgent) resources.Resources {
	used := resources.Resources{}
	for _, res := range ag.holdings {
		used = used.Add(res)
	}
	return ag.total.Subtract(used)
}

func addQ(m qmap, rs resources.Resources, keep func(resources.Resource) bool) {
	for x := range rs.All() {
		if x.Type == resources.Scalar && (keep == nil || keep(x)) {
			m[x.Name] += x.Scalar
		}
	}
}

func (r *reference) total() qmap {
	t := qmap{}
	for _, ag := range r.agents {
		addQ(t, ag.total, nil)
	}
	return t
}

// share repeats dominantShare's arithmetic exactly.
func refShare(alloc, total qmap) float64 {
	var best float64
	for name, t := range total {
		if t <= 0 {
			continue
		}
		if s := float64(alloc[name]) / float64(t); s > best {
			best = s
		}
	}
	return best
}

func inTree(role, top string) bool { return role == top || resources.IsSubrole(role, top) }

// direct and subtree sum what is held under exactly role, or under role
// and its subroles.
func (r *reference) held(match func(holder) bool) qmap {
	sum := qmap{}
	for _, ag := range r.agents {
		for h, res := range ag.holdings {
			if match(h) {
				addQ(sum, res, nil)
			}
		}
	}
	return sum
}

func (r *reference) consumed(role string) qmap {
	c := qmap{}
	for _, ag := range r.agents {
		for h, res := range ag.holdings {
			if inTree(h.role, role) {
				addQ(c, res, unreservedOnly)
			}
		}
		addQ(c, ag.total, func(x resources.Resource) bool { return x.Role != resources.Unreserved && inTree(x.Role, role) })
	}
	return c
}

func (r *reference) weight(role string) float64 {
	if w, ok := r.weights[role]; ok {
		return w
	}
	return 1
}

// tracked lists every role the allocator must know: subscribed, holding,
// reserved for, with quota, and all their ancestors.
func (r *reference) tracked() map[string]bool {
	set := map[string]bool{}
	add := func(role string) {
		for x, up := role, true; up; x, up = resources.ParentRole(x) {
			set[x] = true
		}
	}
	for _, f := range r.frameworks {
		for _, role := range f.roles {
			add(role)
		}
	}
	for _, ag := range r.agents {
		for h := range ag.holdings {
			add(h.role)
		}
		for x := range ag.total.All() {
			if x.Role != resources.Unreserved {
				add(x.Role)
			}
		}
	}
	for role := range r.quotas {
		add(role)
	}
	return set
}

type refEntry struct {
	role string
	self bool
}

// roleOrder walks the tree depth first, each level sorted by the policy.
func (r *reference) roleOrder() []string {
	set := r.tracked()
	total := r.total()
	var walk func(parent string, top bool) []string
	walk = func(parent string, top bool) []string {
		var level []refEntry
		for role := range set {
			if p, ok := resources.ParentRole(role); (top && !ok) || (!top && ok && p == parent) {
				level = append(level, refEntry{role: role})
			}
		}
		if !top && len(level) > 0 && (r.subscribed(parent) || r.holdsAnything(parent)) {
			level = append(level, refEntry{role: parent, self: true})
		}
		key := func(e refEntry) float64 {
			if r.roleSorter == SorterPriority {
				return -r.weight(e.role)
			}
			alloc := r.held(func(h holder) bool { return inTree(h.role, e.role) })
			if e.self {
				alloc = r.held(func(h holder) bool { return h.role == e.role })
			}
			return refShare(alloc, total) / r.weight(e.role)
		}
		slices.SortFunc(level, func(x, y refEntry) int { return cmpKey(key(x), x.role, key(y), y.role) })
		var out []string
		for _, e := range level {
			if e.self || !r.hasChildren(set, e.role) {
				out = append(out, e.role)
			} else {
				out = append(out, walk(e.role, false)...)
			}
		}
		return out
	}
	return walk("", true)
}

func (r *reference) hasChildren(set map[string]bool, role string) bool {
	for x := range set {
		if p, ok := resources.ParentRole(x); ok && p == role {
			return true
		}
	}
	return false
}

func (r *reference) subscribed(role string) bool {
	for _, f := range r.frameworks {
		if slices.Contains(f.roles, role) {
			return true
		}
	}
	return false
}

func (r *reference) holdsAnything(role string) bool {
	for _, ag := range r.agents {
		for h := range ag.holdings {
			if h.role == role {
				return true
			}
		}
	}
	return false
}

// frameworksOf are the frameworks offers for role may go to, in order.
func (r *reference) frameworksOf(role string) []ids.FrameworkID {
	var out []ids.FrameworkID
	total := r.total()
	key := map[ids.FrameworkID]float64{}
	for id, f := range r.frameworks {
		if f.active && !f.suppressed[role] && slices.Contains(f.roles, role) {
			out = append(out, id)
			if r.fwSorter == SorterPriority {
				key[id] = -1
			} else {
				key[id] = refShare(r.held(func(h holder) bool { return h.fw == id && h.role == role }), total)
			}
		}
	}
	slices.SortFunc(out, func(x, y ids.FrameworkID) int { return cmpKey(key[x], string(x), key[y], string(y)) })
	return out
}

func (r *reference) allocatable(avail resources.Resources) bool {
	if avail.IsEmpty() {
		return false
	}
	for _, m := range r.min {
		if avail.ScalarQuantities().Contains(m) {
			return true
		}
	}
	return false
}

func (r *reference) filteredOut(fw ids.FrameworkID, role string, id ids.AgentID, cand resources.Resources, now time.Time) bool {
	for _, flt := range r.frameworks[fw].filters {
		if flt.role == role && flt.agent == id && now.Before(flt.expires) && flt.refused.Contains(cand) {
			return true
		}
	}
	return false
}

// Quota arithmetic, from scratch.

func (r *reference) chain(role string) []string {
	var out []string
	for x, up := role, true; up; x, up = resources.ParentRole(x) {
		out = append(out, x)
	}
	return out
}

func (r *reference) limitRoom(role, name string) (resources.Fixed, bool) {
	room, limited := resources.Fixed(math.MaxInt64), false
	for _, x := range r.chain(role) {
		if l, ok := r.quotas[x].limit[name]; ok {
			limited = true
			room = min(room, max(0, l-r.consumed(x)[name]))
		}
	}
	return room, limited
}

func (r *reference) need(role, name string) (resources.Fixed, bool) {
	room, ok := resources.Fixed(math.MaxInt64), false
	for _, x := range r.chain(role) {
		if g := r.quotas[x].guarantee[name]; g > 0 {
			ok = true
			room = min(room, max(0, g-r.consumed(x)[name]))
		}
	}
	return room, ok
}

func (r *reference) guaranteeRoot(role string) string {
	root := ""
	for _, x := range r.chain(role) {
		for _, g := range r.quotas[x].guarantee {
			if g > 0 {
				root = x
			}
		}
	}
	return root
}

func (r *reference) unmet(root, name string) resources.Fixed {
	if root == "" {
		return 0
	}
	return max(0, r.quotas[root].guarantee[name]-r.consumed(root)[name])
}

func (r *reference) availHeadroom() qmap {
	avail := qmap{}
	for _, ag := range r.agents {
		if ag.active {
			addQ(avail, r.free(ag), unreservedOnly)
		}
	}
	return avail
}

func (r *reference) requiredHeadroom() qmap {
	req := qmap{}
	for role, q := range r.quotas {
		if r.guaranteeRoot(role) != role {
			continue
		}
		for name := range q.guarantee {
			req[name] += r.unmet(role, name)
		}
	}
	return req
}

func (r *reference) needs(role string) bool {
	for _, q := range r.quotas {
		for name := range q.guarantee {
			if n, ok := r.need(role, name); ok && n > 0 {
				return true
			}
		}
	}
	return false
}

// candidate is what role may be offered of ag in stage.
func (r *reference) candidate(ag *refAgent, role string, stage int) resources.Resources {
	cand := r.free(ag).AllocatableTo(role)
	if len(r.quotas) == 0 {
		return cand
	}
	avail, req, root := r.availHeadroom(), r.requiredHeadroom(), r.guaranteeRoot(role)
	out, guaranteed := cand, false
	for e := range cand.All() {
		if e.Role != resources.Unreserved || e.Type != resources.Scalar {
			continue
		}
		room, limited := r.limitRoom(role, e.Name)
		if !limited {
			room = math.MaxInt64
		}
		if need, ok := r.need(role, e.Name); stage == 1 && ok {
			room = min(room, need)
			guaranteed = guaranteed || room > 0
		} else {
			room = min(room, max(0, avail[e.Name]-req[e.Name])+r.unmet(root, e.Name))
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

func (r *reference) allocate(now time.Time) []Allocation {
	for _, f := range r.frameworks {
		f.filters = slices.DeleteFunc(f.filters, func(x refFilter) bool { return !now.Before(x.expires) })
	}
	var out []Allocation
	merged := map[offerID]int{}
	ids := slices.Sorted(maps.Keys(r.agents))
	stages := []int{2}
	if len(r.quotas) > 0 {
		stages = []int{1, 2}
	}
	for _, stage := range stages {
		for _, id := range ids {
			ag := r.agents[id]
			if !ag.active || r.free(ag).IsEmpty() {
				continue
			}
			for _, role := range r.roleOrder() {
				if stage == 1 && !r.needs(role) {
					continue
				}
				cand := r.candidate(ag, role, stage)
				if !r.allocatable(cand) {
					continue
				}
				for _, fw := range r.frameworksOf(role) {
					if (ag.total.Quantity("gpus") > 0 && !r.frameworks[fw].gpu) || r.filteredOut(fw, role, id, cand, now) {
						continue
					}
					h := holder{fw, role}
					ag.holdings[h] = ag.holdings[h].Add(cand)
					k := offerID{fw, role, id}
					if i, ok := merged[k]; ok {
						out[i].Resources = out[i].Resources.Add(cand)
					} else {
						if stage == 1 {
							merged[k] = len(out)
						}
						out = append(out, Allocation{Framework: fw, Agent: id, Role: role, Resources: cand})
					}
					break
				}
				if r.free(ag).IsEmpty() {
					break
				}
			}
		}
	}
	return out
}

type offerID struct {
	fw    ids.FrameworkID
	role  string
	agent ids.AgentID
}

func (r *reference) recover(al Allocation, f *Filter, now time.Time) {
	ag := r.agents[al.Agent]
	h := holder{al.Framework, al.Role}
	if left := ag.holdings[h].Subtract(al.Resources); left.IsEmpty() {
		delete(ag.holdings, h)
	} else {
		ag.holdings[h] = left
	}
	if f == nil || al.Resources.IsEmpty() {
		return
	}
	d := f.duration()
	if d == 0 {
		return
	}
	fw := r.frameworks[al.Framework]
	if fw == nil || !slices.Contains(fw.roles, al.Role) {
		return
	}
	fw.filters = append(fw.filters, refFilter{al.Role, al.Agent, al.Resources, now.Add(max(d, r.interval))})
}

func (r *reference) dropFilters(fw ids.FrameworkID, match func(refFilter) bool) {
	f := r.frameworks[fw]
	f.filters = slices.DeleteFunc(f.filters, match)
}
