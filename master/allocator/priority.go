package allocator

import "math/rand/v2"

// SorterPriority is strict priority: the client with the highest weight is
// always served first, whatever it already holds; equal weights go by name.
// Frameworks have no weights of their own, so at the framework level it
// serves frameworks in id order.
const SorterPriority = "priority"

type priority struct{ ordered }

func init() {
	registerSorter(SorterPriority, func(*rand.Rand) sorter {
		s := &priority{}
		s.keyOf = func(c *client) float64 { return -c.weight }
		return s
	})
}

// setTotal: priorities do not depend on the pool.
func (s *priority) setTotal(qvec) {}
