package allocator

import "math/rand/v2"

// drf is dominant resource fairness with weights: clients go in increasing
// order of dominant share divided by weight (a weight-2 role is served as if
// it held half of what it holds), ties to the smaller name. Mesos's default
// policy at both levels.
type drf struct {
	ordered
	total qvec
}

func init() {
	registerSorter(SorterDRF, func(*rand.Rand) sorter {
		s := &drf{}
		s.keyOf = func(c *client) float64 { return drfKey(c.alloc, s.total, c.weight) }
		return s
	})
}

// drfKey is the weighted dominant share. The reference test repeats the
// exact operations so that equal shares compare equal in both.
func drfKey(alloc, total qvec, weight float64) float64 {
	return dominantShare(alloc, total) / weight
}

func (s *drf) setTotal(total qvec) {
	s.total = total
	s.resort = true
}
