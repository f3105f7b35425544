package allocator

import (
	"cmp"
	"slices"

	"github.com/cairnhq/cairn/resources"
)

// drf orders clients by dominant share: the largest, over the scalar
// resources of the pool, of allocated/total. Ties go to the smaller client
// name, so the order is a pure function of the allocations.
//
// Re-sorting is incremental: an allocation change moves only the clients it
// touched (binary search out, binary search in), and a full sort happens only
// when the pool changes. An allocation round touches one client per agent, so
// this keeps a round at O(agents × log clients) comparisons plus the moves.
type drf[C ~string] struct {
	clients map[C]*drfClient
	order   []C // sorted by (share, name) as of the last Sort
	stale   []C // clients whose allocation changed since the last Sort
	resort  bool
	totals  []scalarTotal
}

type drfClient struct {
	alloc resources.Resources
	share float64 // the share its position in order was computed with
	stale bool
}

type scalarTotal struct {
	name  string
	total resources.Fixed
}

func newDRF[C ~string]() *drf[C] {
	return &drf[C]{clients: make(map[C]*drfClient)}
}

func (s *drf[C]) Add(client C) {
	if _, ok := s.clients[client]; ok {
		panic("allocator: sorter client added twice: " + string(client))
	}
	s.clients[client] = &drfClient{}
	// A new client has share 0 until it gets something.
	i, _ := slices.BinarySearchFunc(s.order, client, s.cmpKey(0))
	s.order = slices.Insert(s.order, i, client)
}

func (s *drf[C]) Remove(client C) {
	c := s.mustGet(client)
	if c.stale {
		s.stale = slices.DeleteFunc(s.stale, func(x C) bool { return x == client })
	}
	if i, found := slices.BinarySearchFunc(s.order, client, s.cmpKey(c.share)); found {
		s.order = slices.Delete(s.order, i, i+1)
	}
	delete(s.clients, client)
}

func (s *drf[C]) Has(client C) bool {
	_, ok := s.clients[client]
	return ok
}

func (s *drf[C]) Allocated(client C, res resources.Resources) {
	c := s.mustGet(client)
	c.alloc = c.alloc.Add(res)
	s.touch(client, c)
}

func (s *drf[C]) Unallocated(client C, res resources.Resources) {
	c := s.mustGet(client)
	c.alloc = c.alloc.Subtract(res)
	s.touch(client, c)
}

func (s *drf[C]) touch(client C, c *drfClient) {
	if !c.stale {
		c.stale = true
		s.stale = append(s.stale, client)
	}
}

func (s *drf[C]) SetTotal(total resources.Resources) {
	s.totals = s.totals[:0]
	for r := range total.All() {
		if r.Type != resources.Scalar {
			continue
		}
		if n := len(s.totals); n > 0 && s.totals[n-1].name == r.Name {
			s.totals[n-1].total += r.Scalar // same name, another role
			continue
		}
		s.totals = append(s.totals, scalarTotal{r.Name, r.Scalar})
	}
	s.resort = true
}

func (s *drf[C]) Sort() []C {
	if s.resort || len(s.stale) > len(s.order)/4+1 {
		for _, c := range s.clients {
			c.share, c.stale = s.share(c.alloc), false
		}
		s.stale, s.resort = s.stale[:0], false
		slices.SortFunc(s.order, func(a, b C) int {
			return cmpShare(s.clients[a].share, s.clients[b].share, a, b)
		})
		return s.order
	}
	for _, client := range s.stale {
		c := s.clients[client]
		if i, found := slices.BinarySearchFunc(s.order, client, s.cmpKey(c.share)); found {
			s.order = slices.Delete(s.order, i, i+1)
		}
		c.share, c.stale = s.share(c.alloc), false
		i, _ := slices.BinarySearchFunc(s.order, client, s.cmpKey(c.share))
		s.order = slices.Insert(s.order, i, client)
	}
	s.stale = s.stale[:0]
	return s.order
}

// cmpKey compares an element of order with the key (share, client).
func (s *drf[C]) cmpKey(share float64) func(C, C) int {
	return func(elem, client C) int {
		return cmpShare(s.clients[elem].share, share, elem, client)
	}
}

func cmpShare[C ~string](sa, sb float64, a, b C) int {
	if c := cmp.Compare(sa, sb); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func (s *drf[C]) Share(client C) float64 {
	return s.share(s.mustGet(client).alloc)
}

func (s *drf[C]) share(alloc resources.Resources) float64 {
	var dominant float64
	for _, t := range s.totals {
		if t.total <= 0 {
			continue
		}
		if sh := float64(alloc.Quantity(t.name)) / float64(t.total); sh > dominant {
			dominant = sh
		}
	}
	return dominant
}

func (s *drf[C]) Allocation(client C) resources.Resources {
	return s.mustGet(client).alloc
}

func (s *drf[C]) mustGet(client C) *drfClient {
	c, ok := s.clients[client]
	if !ok {
		panic("allocator: unknown sorter client " + string(client))
	}
	return c
}
