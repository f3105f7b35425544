package resources

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Resources is a normalized, immutable collection of resources: at most one
// entry per (name, role, type), sorted by that key, none of them empty. The
// zero value is the empty collection.
type Resources struct {
	items []Resource
}

// New validates rs and returns them as a normalized collection; entries with
// the same name, role and type are added together.
func New(rs ...Resource) (Resources, error) {
	items := make([]Resource, 0, len(rs))
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return Resources{}, err
		}
		if n := r.normalized(); !n.IsEmpty() {
			items = append(items, n)
		}
	}
	return fromUnsorted(items), nil
}

// Must is New for values known to be valid (constants, tests); it panics on
// an invalid resource.
func Must(rs ...Resource) Resources {
	res, err := New(rs...)
	if err != nil {
		panic("resources.Must: " + err.Error())
	}
	return res
}

// fromUnsorted sorts normalized, non-empty items and merges equal keys.
func fromUnsorted(items []Resource) Resources {
	slices.SortStableFunc(items, func(a, b Resource) int { return compareKey(&a, &b) })
	out := items[:0]
	for _, r := range items {
		if n := len(out); n > 0 && compareKey(&out[n-1], &r) == 0 {
			out[n-1] = addOne(out[n-1], r)
			continue
		}
		out = append(out, r)
	}
	return Resources{items: out}
}

// IsEmpty reports whether the collection holds nothing.
func (rs Resources) IsEmpty() bool { return len(rs.items) == 0 }

// Len is the number of (name, role, type) entries.
func (rs Resources) Len() int { return len(rs.items) }

// All yields the entries in order. The yielded values share their Ranges and
// Set slices with rs: read them, never modify them.
func (rs Resources) All() iter.Seq[Resource] {
	return func(yield func(Resource) bool) {
		for _, r := range rs.items {
			if !yield(r) {
				return
			}
		}
	}
}

// Items returns a deep copy of the entries, in order.
func (rs Resources) Items() []Resource {
	out := make([]Resource, len(rs.items))
	for i, r := range rs.items {
		out[i] = cloneResource(r)
	}
	return out
}

// Add returns rs + other: scalars summed, ranges and sets united.
func (rs Resources) Add(other Resources) Resources {
	a, b := rs.items, other.items
	if len(b) == 0 {
		return rs
	}
	if len(a) == 0 {
		return other
	}
	out := make([]Resource, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareKey(&a[i], &b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, addOne(a[i], b[j]))
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	return Resources{items: out}
}

// Subtract returns rs − other, floored at zero: a scalar never goes negative
// and is dropped when it reaches zero; ranges and set items are removed.
// Entries of other that rs does not have are ignored.
func (rs Resources) Subtract(other Resources) Resources {
	a, b := rs.items, other.items
	if len(a) == 0 || len(b) == 0 {
		return rs
	}
	if rs.Same(other) {
		return Resources{}
	}
	out := make([]Resource, 0, len(a))
	j := 0
	for _, r := range a {
		for j < len(b) && compareKey(&b[j], &r) < 0 {
			j++
		}
		if j < len(b) && compareKey(&b[j], &r) == 0 {
			r = subOne(r, b[j])
			if r.IsEmpty() {
				continue
			}
		}
		out = append(out, r)
	}
	return Resources{items: out}
}

// Contains reports rs ⊇ other. Roles matter: unreserved cpus do not contain
// cpus reserved for a role, nor the other way round.
func (rs Resources) Contains(other Resources) bool {
	if rs.Same(other) {
		return true
	}
	a := rs.items
	i := 0
	for k := range other.items {
		r := &other.items[k]
		for i < len(a) && compareKey(&a[i], r) < 0 {
			i++
		}
		if i == len(a) || compareKey(&a[i], r) != 0 || !containsOne(&a[i], r) {
			return false
		}
	}
	return true
}

// Equal reports whether both collections hold exactly the same resources.
func (rs Resources) Equal(other Resources) bool {
	if len(rs.items) != len(other.items) {
		return false
	}
	if rs.Same(other) {
		return true
	}
	for i := range rs.items {
		a, b := &rs.items[i], &other.items[i]
		if compareKey(a, b) != 0 || a.Scalar != b.Scalar ||
			!slices.Equal(a.Ranges, b.Ranges) || !slices.Equal(a.Set, b.Set) {
			return false
		}
	}
	return true
}

// Same reports whether rs and other are one value in memory, which implies
// Equal. Values are immutable, so a caller may use it as a cheap cache key:
// "is this still the collection I computed that from?"
func (rs Resources) Same(other Resources) bool {
	return len(rs.items) == len(other.items) && (len(rs.items) == 0 || &rs.items[0] == &other.items[0])
}

// Scalar returns the total of the named scalar over all roles, as a float.
func (rs Resources) Scalar(name string) float64 { return rs.Quantity(name).Float() }

// Quantity returns the exact total of the named scalar over all roles.
func (rs Resources) Quantity(name string) Fixed {
	var sum Fixed
	for i := range rs.items {
		if r := &rs.items[i]; r.Name == name && r.Type == Scalar {
			sum = addFixed(sum, r.Scalar)
		}
	}
	return sum
}

// Ranges returns the union over all roles of the named ranges resource.
func (rs Resources) Ranges(name string) []Range {
	var out []Range
	for i := range rs.items {
		if r := &rs.items[i]; r.Name == name && r.Type == Ranges {
			out = unionRanges(out, r.Ranges)
		}
	}
	return slices.Clone(out)
}

// SetItems returns the union over all roles of the named set resource.
func (rs Resources) SetItems(name string) []string {
	var out []string
	for i := range rs.items {
		if r := &rs.items[i]; r.Name == name && r.Type == Set {
			out = unionSet(out, r.Set)
		}
	}
	return slices.Clone(out)
}

// ScalarQuantities returns only the scalars, summed by name over roles and
// marked unreserved: the measure of how much of a pool something holds,
// which stays meaningful when added up over many agents (ranges would not:
// port 31000 of one agent is not port 31000 of another).
func (rs Resources) ScalarQuantities() Resources {
	var out []Resource
	for _, r := range rs.items {
		if r.Type != Scalar {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Name == r.Name {
			out[n-1].Scalar = addFixed(out[n-1].Scalar, r.Scalar)
			continue
		}
		out = append(out, Resource{Name: r.Name, Role: Unreserved, Type: Scalar, Scalar: r.Scalar})
	}
	return Resources{items: out}
}

// Reserved returns the resources reserved for role (the unreserved ones when
// role is "*").
func (rs Resources) Reserved(role string) Resources {
	return rs.filter(func(r *Resource) bool { return r.Role == role })
}

// Unreserved returns the resources not reserved for any role.
func (rs Resources) Unreserved() Resources { return rs.Reserved(Unreserved) }

// AllocatableTo returns what a framework in role may be offered: the
// unreserved resources and those reserved for role or for one of its
// ancestors (Mesos's rule: "eng" reservations may go to "eng/web"). It
// returns rs itself, without copying, when nothing is reserved elsewhere.
func (rs Resources) AllocatableTo(role string) Resources {
	return rs.filter(func(r *Resource) bool { return IsAllocatableTo(r.Role, role) })
}

// HasReserved reports whether any entry is reserved for a role.
func (rs Resources) HasReserved() bool {
	for i := range rs.items {
		if rs.items[i].Role != Unreserved {
			return true
		}
	}
	return false
}

// ToUnreserved returns rs with every reservation dropped (static and
// dynamic alike): what UNRESERVE turns reserved resources into, and what a
// RESERVE takes from the unreserved pool.
func (rs Resources) ToUnreserved() Resources {
	if !rs.HasReserved() {
		return rs
	}
	items := make([]Resource, len(rs.items))
	for i, r := range rs.items {
		r.Role, r.Dynamic = Unreserved, false
		items[i] = r
	}
	return fromUnsorted(items)
}

// CapScalar returns rs with its unreserved scalar name capped at limit
// (dropped at zero), sharing everything else with rs. The allocator uses
// it to cut an offer down to a quota.
func (rs Resources) CapScalar(name string, limit Fixed) Resources {
	for i := range rs.items {
		r := &rs.items[i]
		if r.Name != name || r.Role != Unreserved || r.Type != Scalar || r.Scalar <= limit {
			continue
		}
		out := make([]Resource, 0, len(rs.items))
		out = append(out, rs.items[:i]...)
		if limit > 0 {
			capped := *r
			capped.Scalar = limit
			out = append(out, capped)
		}
		return Resources{items: append(out, rs.items[i+1:]...)}
	}
	return rs
}

// Filter returns the entries keep accepts.
func (rs Resources) Filter(keep func(Resource) bool) Resources {
	return rs.filter(func(r *Resource) bool { return keep(*r) })
}

func (rs Resources) filter(keep func(*Resource) bool) Resources {
	for i := range rs.items {
		if keep(&rs.items[i]) {
			continue
		}
		// First entry to drop: copy from here on.
		out := slices.Clone(rs.items[:i])
		for k := i + 1; k < len(rs.items); k++ {
			if keep(&rs.items[k]) {
				out = append(out, rs.items[k])
			}
		}
		return Resources{items: out}
	}
	return rs
}

// String writes the --resources text syntax, which Parse reads back:
// "cpus:4;mem:2048;ports:[31000-32000];cpus(eng):2". Empty is "".
func (rs Resources) String() string {
	parts := make([]string, len(rs.items))
	for i, r := range rs.items {
		parts[i] = r.String()
	}
	return strings.Join(parts, ";")
}

// MarshalText writes String, so Resources work as flags and in text configs.
func (rs Resources) MarshalText() ([]byte, error) { return []byte(rs.String()), nil }

// UnmarshalText reads what Parse reads.
func (rs *Resources) UnmarshalText(b []byte) error {
	parsed, err := Parse(string(b))
	if err != nil {
		return err
	}
	*rs = parsed
	return nil
}

// GoString helps test failures show the text form.
func (rs Resources) GoString() string { return fmt.Sprintf("resources.MustParse(%q)", rs.String()) }
