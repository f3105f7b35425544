package allocator

import (
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// filterKey scopes an offer filter: one framework (the map's owner), one of
// its roles, one agent.
type filterKey struct {
	role  string
	agent ids.AgentID
}

// offerFilter keeps refused resources from coming back before expires.
type offerFilter struct {
	refused resources.Resources
	expires time.Time
}

// filterClock counts live filters and knows the earliest expiry, so that
// Allocate sweeps expired filters only when one can have expired.
type filterClock struct {
	count int
	next  time.Time // zero when there are no filters
}

func (c *filterClock) added(expires time.Time) {
	c.count++
	if c.next.IsZero() || expires.Before(c.next) {
		c.next = expires
	}
}

func (c *filterClock) forget(n int) {
	c.count -= n
	if c.count == 0 {
		c.next = time.Time{}
	}
}

// addFilter refuses res on agent to f's role for Mesos's filter duration:
// max(allocation interval, refuse), nothing when refuse is 0.
func (a *Allocator) addFilter(f *framework, role string, agent ids.AgentID, res resources.Resources, filter Filter, now time.Time) {
	d := filter.duration()
	if d <= 0 || res.IsEmpty() {
		return
	}
	d = max(d, a.cfg.AllocationInterval)
	expires := now.Add(d)
	k := filterKey{role, agent}
	f.filters[k] = append(f.filters[k], offerFilter{refused: res, expires: expires})
	f.nfilters++
	a.filters.added(expires)
}

// filtered reports whether a live filter of f refuses candidate: only a
// filter whose refused resources contain the whole candidate counts, so an
// agent that has more free than was refused is offered again (Mesos's rule).
func (f *framework) filtered(role string, agent ids.AgentID, candidate resources.Resources, now time.Time) bool {
	if f.nfilters == 0 {
		return false
	}
	for _, flt := range f.filters[filterKey{role, agent}] {
		if now.Before(flt.expires) && flt.refused.Contains(candidate) {
			return true
		}
	}
	return false
}

// dropFilters removes the filters whose key matches and returns how many.
func (f *framework) dropFilters(match func(filterKey) bool) int {
	n := 0
	for k, fs := range f.filters {
		if match(k) {
			n += len(fs)
			delete(f.filters, k)
		}
	}
	f.nfilters -= n
	return n
}

// expireFilters drops the filters that expired by now. Expired filters never
// block an offer (filtered checks the time), so this only keeps memory and
// the filter counts honest.
func (a *Allocator) expireFilters(now time.Time) {
	if a.filters.count == 0 || now.Before(a.filters.next) {
		return
	}
	a.filters = filterClock{}
	for _, f := range a.frameworks {
		for k, fs := range f.filters {
			live := fs[:0]
			for _, flt := range fs {
				if now.Before(flt.expires) {
					live = append(live, flt)
					a.filters.added(flt.expires)
				}
			}
			f.nfilters -= len(fs) - len(live)
			if len(live) == 0 {
				delete(f.filters, k)
			} else {
				f.filters[k] = live
			}
		}
	}
}
