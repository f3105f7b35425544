package allocator

import (
	"cmp"
	"slices"
)

// ordered keeps the active clients sorted by (key, name) for the policies
// whose order is a pure function of each client's own state (drf, priority).
// Repositioning is lazy and incremental: a change marks the client stale,
// and the next sort moves only the stale clients (binary search out, binary
// search in). An allocation round changes one client per agent, so a round
// costs O(agents × log clients) comparisons plus the moves; a change of the
// pool (every key at once) re-sorts fully, once.
type ordered struct {
	keyOf  func(*client) float64
	order  []*client
	stale  []*client
	resort bool
}

func (o *ordered) add(c *client) {
	c.stale = false
	if c.active {
		o.insert(c)
	}
}

func (o *ordered) remove(c *client) {
	if c.active {
		o.delete(c)
	}
	c.stale = false
}

func (o *ordered) setActive(c *client, active bool) {
	if c.active == active {
		return
	}
	if active {
		c.active = true
		o.insert(c)
		return
	}
	o.delete(c)
	c.active, c.stale = false, false
}

// update queues c for repositioning if its key changed.
func (o *ordered) update(c *client) {
	if !c.active || c.stale || o.resort {
		return
	}
	if o.keyOf(c) == c.key {
		return
	}
	c.stale = true
	o.stale = append(o.stale, c)
}

func (o *ordered) sort() []*client {
	if o.resort || len(o.stale) > len(o.order)/4+8 {
		for _, c := range o.order {
			c.key, c.stale = o.keyOf(c), false
		}
		slices.SortFunc(o.order, func(x, y *client) int { return cmpKey(x.key, x.name, y.key, y.name) })
		o.stale, o.resort = o.stale[:0], false
		return o.order
	}
	for _, c := range o.stale {
		if !c.stale { // removed or deactivated since
			continue
		}
		o.delete(c)
		c.stale = false
		o.insert(c)
	}
	o.stale = o.stale[:0]
	return o.order
}

// insert computes c's key and places it.
func (o *ordered) insert(c *client) {
	c.key = o.keyOf(c)
	i, _ := slices.BinarySearchFunc(o.order, c, func(e, t *client) int { return cmpKey(e.key, e.name, t.key, t.name) })
	o.order = slices.Insert(o.order, i, c)
}

// delete finds c by the key it was placed with.
func (o *ordered) delete(c *client) {
	i, found := slices.BinarySearchFunc(o.order, c, func(e, t *client) int { return cmpKey(e.key, e.name, t.key, t.name) })
	if !found || o.order[i] != c {
		panic("allocator: ordered sorter lost client " + c.name)
	}
	o.order = slices.Delete(o.order, i, i+1)
}

func cmpKey(ka float64, na string, kb float64, nb string) int {
	if c := cmp.Compare(ka, kb); c != 0 {
		return c
	}
	return cmp.Compare(na, nb)
}
