package allocator

import (
	"slices"

	"github.com/cairnhq/cairn/resources"
)

// qvec is a vector of scalar quantities indexed by the allocator's name
// table: the form every share, quota and headroom figure takes in the hot
// path, so that adding an allocation to a role is a few integer additions
// instead of a merge of two sorted resource lists. A shorter vector reads as
// zeros past its end.
type qvec []resources.Fixed

// nameTable numbers scalar resource names in order of first sight. Names
// are few (cpus, mem, disk, gpus, a custom one or two), so lookups scan the
// slice before falling back to the map.
type nameTable struct {
	names []string
	index map[string]int
}

func (t *nameTable) id(name string) int {
	for i, n := range t.names {
		if n == name {
			return i
		}
		if i == 15 {
			break
		}
	}
	if i, ok := t.index[name]; ok {
		return i
	}
	if t.index == nil {
		t.index = make(map[string]int)
	}
	t.index[name] = len(t.names)
	t.names = append(t.names, name)
	return len(t.names) - 1
}

// addRes adds (sign +1) or subtracts (sign −1) the scalars of rs to q,
// growing q as needed. Only entries keep accepts count; nil keeps all.
func (t *nameTable) addRes(q *qvec, rs resources.Resources, sign resources.Fixed, keep func(resources.Resource) bool) {
	for r := range rs.All() {
		if r.Type != resources.Scalar || (keep != nil && !keep(r)) {
			continue
		}
		i := t.id(r.Name)
		q.grow(i + 1)
		(*q)[i] += sign * r.Scalar
	}
}

// of returns the scalar quantities of rs as a new vector.
func (t *nameTable) of(rs resources.Resources) qvec {
	var q qvec
	t.addRes(&q, rs, 1, nil)
	return q
}

// resources converts q back, dropping zeros: the form Stats and the golden
// scripts show.
func (t *nameTable) resources(q qvec) resources.Resources {
	items := make([]resources.Resource, 0, len(q))
	for i, v := range q {
		if v > 0 {
			items = append(items, resources.Resource{Name: t.names[i], Role: resources.Unreserved, Type: resources.Scalar, Scalar: v})
		}
	}
	return resources.Must(items...)
}

func unreservedOnly(r resources.Resource) bool { return r.Role == resources.Unreserved }

func (q *qvec) grow(n int) {
	if len(*q) < n {
		*q = append(*q, make(qvec, n-len(*q))...)
	}
}

func (q *qvec) add(o qvec) {
	q.grow(len(o))
	for i, v := range o {
		(*q)[i] += v
	}
}

func (q *qvec) sub(o qvec) {
	q.grow(len(o))
	for i, v := range o {
		(*q)[i] -= v
	}
}

func (q qvec) at(i int) resources.Fixed {
	if i < len(q) {
		return q[i]
	}
	return 0
}

func (q qvec) isZero() bool {
	for _, v := range q {
		if v != 0 {
			return false
		}
	}
	return true
}

// equal compares as if both were padded with zeros.
func (q qvec) equal(o qvec) bool {
	n := max(len(q), len(o))
	for i := range n {
		if q.at(i) != o.at(i) {
			return false
		}
	}
	return true
}

func (q qvec) clone() qvec { return slices.Clone(q) }

// dominantShare is DRF's measure: the largest, over the names the pool has,
// of held/pool. The reference test computes it the same way, operation for
// operation, so that ties break identically.
func dominantShare(held, pool qvec) float64 {
	var share float64
	for i, t := range pool {
		if t <= 0 {
			continue
		}
		if s := float64(held.at(i)) / float64(t); s > share {
			share = s
		}
	}
	return share
}
