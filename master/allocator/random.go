package allocator

import (
	"math"
	"math/rand/v2"
	"slices"
)

// SorterRandom is weighted random order, drawn afresh for every agent: a
// client's chance to come before another is in proportion to its weight.
// Like Mesos's random sorter it ignores allocations. The draws come from a
// stream seeded by Config.Seed.
const SorterRandom = "random"

type random struct {
	rng     *rand.Rand
	active  []*client
	out     []*client
	keys    []float64
	weights int // active clients whose weight is not 1
}

func init() {
	registerSorter(SorterRandom, func(rng *rand.Rand) sorter { return &random{rng: rng} })
}

func (s *random) add(c *client) {
	if c.active {
		s.push(c)
	}
}

func (s *random) remove(c *client) {
	if c.active {
		s.drop(c)
	}
}

func (s *random) setActive(c *client, active bool) {
	if c.active == active {
		return
	}
	c.active = active
	if active {
		s.push(c)
	} else {
		s.drop(c)
	}
}

func (s *random) push(c *client) {
	c.idx = len(s.active)
	c.key = c.weight
	s.active = append(s.active, c)
	if c.weight != 1 {
		s.weights++
	}
}

func (s *random) drop(c *client) {
	last := s.active[len(s.active)-1]
	s.active[c.idx], last.idx = last, c.idx
	s.active = s.active[:len(s.active)-1]
	if c.key != 1 {
		s.weights--
	}
}

// update tracks weight changes only; allocations do not matter here.
func (s *random) update(c *client) {
	if !c.active || c.key == c.weight {
		return
	}
	if c.key != 1 {
		s.weights--
	}
	if c.weight != 1 {
		s.weights++
	}
	c.key = c.weight
}

func (s *random) setTotal(qvec) {}

// sort draws a weighted random permutation: each client gets the key
// −ln(U)/weight (the first of independent exponential clocks with rates
// equal to the weights rings first), and keys go in increasing order. With
// all weights equal that is a plain shuffle.
func (s *random) sort() []*client {
	s.out = append(s.out[:0], s.active...)
	// Start from a fixed order so that the result depends only on the
	// stream, not on the history of adds and removes.
	slices.SortFunc(s.out, func(x, y *client) int { return cmpKey(0, x.name, 0, y.name) })
	if s.weights == 0 {
		s.rng.Shuffle(len(s.out), func(i, j int) { s.out[i], s.out[j] = s.out[j], s.out[i] })
		return s.out
	}
	s.keys = s.keys[:0]
	for _, c := range s.out {
		s.keys = append(s.keys, -math.Log(1-s.rng.Float64())/c.weight)
	}
	idx := make([]int, len(s.out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmpKey(s.keys[i], s.out[i].name, s.keys[j], s.out[j].name) })
	sorted := make([]*client, len(idx))
	for i, k := range idx {
		sorted[i] = s.out[k]
	}
	copy(s.out, sorted)
	return s.out
}
