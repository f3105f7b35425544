package allocator

import (
	"time"

	"github.com/cairnhq/cairn/resources"
)

// Offer filters are kept per agent, since that is how Allocate asks: "may
// this agent's free resources go to this framework in this role?" — once
// per framework it walks past, so the common answer must cost a bit test.
//
// Each agent with filters has two bitsets over subscription slots: any (some
// filter of that framework and role names the agent) and covers (one of
// them refused everything the role could be offered there now, so it blocks
// whatever the candidate). covers is computed against a snapshot of the
// agent's free resources (coversFree) and recomputed only when the free
// resources differ from it at the next visit; a framework that declines an
// agent that later comes back identical (the usual case) costs nothing more.
// A filter that is set but does not cover falls back to the exact rule,
// refused ⊇ candidate. The filters themselves live in a slot array of
// pointer-free entries, their refused resources interned per agent, so that
// millions of filters cost the garbage collector nothing.
type agentFilters struct {
	any, covers  bitset
	entries      []filterEntry
	freeEntries  []int32
	live         int
	dups         map[int32]int32 // subscriptions with more than one filter: how many extra
	refusals     []refusal
	freeRefusals []int32
	coversGen    uint64              // agent.freeGen covers was last checked at
	coversFree   resources.Resources // the free resources covers is exact for
	coversRes    bool                // coversFree has reservations: roles see different parts
}

type filterEntry struct {
	expires int64  // UnixNano; the filter blocks while now < expires
	seq     uint64 // identifies the filter to the expiry queues
	sub     int32  // subscription slot; -1 for a free entry
	refusal int32
}

type refusal struct {
	res  resources.Resources
	refs int32
}

type bitset []uint64

func (b bitset) has(i int32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) set(i int32) {
	w := int(i >> 6)
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

func (b bitset) clear(i int32) {
	if w := int(i >> 6); w < len(b) {
		b[w] &^= 1 << (uint(i) & 63)
	}
}

// addFilter refuses res on ag to s for Mesos's filter duration:
// max(allocation interval, refuse), nothing when refuse is 0.
func (a *Allocator) addFilter(s *sub, ag *agent, res resources.Resources, filter Filter, now time.Time) {
	d := filter.duration()
	if d <= 0 || res.IsEmpty() {
		return
	}
	d = max(d, a.cfg.AllocationInterval)
	expires := now.Add(d).UnixNano()
	af := &ag.filters
	if af.live == 0 {
		*af = agentFilters{coversGen: ag.freeGen, coversFree: ag.free, coversRes: ag.free.HasReserved()}
	}
	r := af.intern(res)
	var idx int32
	if k := len(af.freeEntries); k > 0 {
		idx = af.freeEntries[k-1]
		af.freeEntries = af.freeEntries[:k-1]
	} else {
		idx = int32(len(af.entries))
		af.entries = append(af.entries, filterEntry{})
	}
	a.filterSeq++
	af.entries[idx] = filterEntry{expires: expires, seq: a.filterSeq, sub: s.slot, refusal: r}
	af.live++
	if af.any.has(s.slot) {
		if af.dups == nil {
			af.dups = make(map[int32]int32)
		}
		af.dups[s.slot]++
	} else {
		af.any.set(s.slot)
	}
	if a.coversNow(af, r, s) {
		af.covers.set(s.slot)
	}
	s.nfilters++
	s.fw.nfilters++
	a.nfilters++
	a.expiry.push(d, queued{expires: expires, seq: a.filterSeq, agent: ag.slot, idx: idx})
}

// coversNow reports whether refusal r holds everything s's role could be
// offered on ag, as of the snapshot covers is exact for.
func (a *Allocator) coversNow(af *agentFilters, r int32, s *sub) bool {
	possible := af.coversFree
	if af.coversRes {
		possible = possible.AllocatableTo(s.node.name)
	}
	return af.refusals[r].res.Contains(possible)
}

// intern returns the index of a refusal equal to res, adding one if the
// most recent few differ.
func (af *agentFilters) intern(res resources.Resources) int32 {
	for i, seen := len(af.refusals)-1, 0; i >= 0 && seen < 4; i-- {
		if af.refusals[i].refs > 0 {
			seen++
			if af.refusals[i].res.Equal(res) {
				// Keep the newest copy: the next one is likely the same
				// value in memory, which compares in O(1).
				af.refusals[i].res = res
				af.refusals[i].refs++
				return int32(i)
			}
		}
	}
	if k := len(af.freeRefusals); k > 0 {
		i := af.freeRefusals[k-1]
		af.freeRefusals = af.freeRefusals[:k-1]
		af.refusals[i] = refusal{res: res, refs: 1}
		return i
	}
	af.refusals = append(af.refusals, refusal{res: res, refs: 1})
	return int32(len(af.refusals) - 1)
}

// refreshCovers makes covers exact for ag's current free resources. It is
// called when a visit of ag begins; within the visit free only shrinks, and
// a filter that covers more still covers less.
func (a *Allocator) refreshCovers(ag *agent) {
	af := &ag.filters
	if af.live == 0 || af.coversGen == ag.freeGen {
		return
	}
	af.coversGen = ag.freeGen
	equal := ag.free.Equal(af.coversFree)
	af.coversFree = ag.free // equal or not: the next check is then O(1)
	if equal {
		return
	}
	af.coversRes = ag.free.HasReserved()
	clear(af.covers)
	for i := range af.entries {
		e := &af.entries[i]
		if e.sub >= 0 && !af.covers.has(e.sub) && a.coversNow(af, e.refusal, a.subSlots[e.sub]) {
			af.covers.set(e.sub)
		}
	}
}

// filtered reports whether a live filter of s refuses candidate on ag: only
// a filter whose refused resources contain the whole candidate counts, so
// an agent that has more free than was refused is offered again (Mesos's
// rule). Expired filters are gone: Allocate sweeps them first.
func (a *Allocator) filtered(ag *agent, s *sub, candidate resources.Resources) bool {
	af := &ag.filters
	if af.live == 0 || !af.any.has(s.slot) {
		return false
	}
	if af.covers.has(s.slot) {
		return true
	}
	for i := range af.entries {
		e := &af.entries[i]
		if e.sub == s.slot && af.refusals[e.refusal].res.Contains(candidate) {
			return true
		}
	}
	return false
}

// removeFilter frees entry idx of ag's filters.
func (a *Allocator) removeFilter(ag *agent, idx int32) {
	af := &ag.filters
	e := af.entries[idx]
	s := a.subSlots[e.sub]
	af.entries[idx] = filterEntry{sub: -1}
	af.freeEntries = append(af.freeEntries, idx)
	af.live--
	r := &af.refusals[e.refusal]
	r.refs--
	if r.refs == 0 {
		r.res = resources.Resources{}
		af.freeRefusals = append(af.freeRefusals, e.refusal)
	}
	if extra := af.dups[e.sub]; extra > 0 {
		if extra == 1 {
			delete(af.dups, e.sub)
		} else {
			af.dups[e.sub] = extra - 1
		}
		// Another filter of the same subscription remains: does it cover?
		af.covers.clear(e.sub)
		for i := range af.entries {
			o := &af.entries[i]
			if o.sub == e.sub && a.coversNow(af, o.refusal, s) {
				af.covers.set(e.sub)
				break
			}
		}
	} else {
		af.any.clear(e.sub)
		af.covers.clear(e.sub)
	}
	s.nfilters--
	s.fw.nfilters--
	a.nfilters--
	if af.live == 0 {
		*af = agentFilters{} // let the entries go
	}
}

// dropSubFilters removes every filter of s.
func (a *Allocator) dropSubFilters(s *sub) {
	if s.nfilters == 0 {
		return
	}
	for _, ag := range a.agentOrder {
		af := &ag.filters
		if af.live == 0 || !af.any.has(s.slot) {
			continue
		}
		for i := 0; i < len(af.entries); i++ {
			if af.entries[i].sub == s.slot {
				a.removeFilter(ag, int32(i))
			}
		}
		if s.nfilters == 0 {
			return
		}
	}
}

// dropAgentFilters removes every filter that names ag.
func (a *Allocator) dropAgentFilters(ag *agent) {
	af := &ag.filters
	for i := 0; i < len(af.entries); i++ {
		if af.entries[i].sub >= 0 {
			a.removeFilter(ag, int32(i))
		}
	}
}

// expireFilters drops the filters that expired by now. Expired filters
// must be gone before an allocation: the covers bits do not look at time.
func (a *Allocator) expireFilters(now time.Time) {
	a.expiry.popExpired(now.UnixNano(), func(q queued) {
		ag := a.agentSlots[q.agent]
		if ag == nil || int(q.idx) >= len(ag.filters.entries) {
			return
		}
		if e := ag.filters.entries[q.idx]; e.sub >= 0 && e.seq == q.seq {
			a.removeFilter(ag, q.idx)
		}
	})
	// Queued entries of filters removed early (revive, agent removal) wait
	// for their expiry; compact when they outnumber the live ones.
	if a.expiry.pending > 2*a.nfilters+4096 {
		a.expiry.compact(func(q queued) bool {
			ag := a.agentSlots[q.agent]
			return ag != nil && int(q.idx) < len(ag.filters.entries) &&
				ag.filters.entries[q.idx].sub >= 0 && ag.filters.entries[q.idx].seq == q.seq
		})
	}
}
