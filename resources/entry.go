package resources

import "slices"

// The functions below combine two normalized entries with the same key. They
// never modify their arguments: slices may be shared between values.

func addOne(a, b Resource) Resource {
	switch a.Type {
	case Scalar:
		a.Scalar = addFixed(a.Scalar, b.Scalar)
	case Ranges:
		a.Ranges = unionRanges(a.Ranges, b.Ranges)
	case Set:
		a.Set = unionSet(a.Set, b.Set)
	}
	return a
}

func subOne(a, b Resource) Resource {
	switch a.Type {
	case Scalar:
		a.Scalar = subFixed(a.Scalar, b.Scalar)
	case Ranges:
		a.Ranges = subtractRanges(a.Ranges, b.Ranges)
	case Set:
		a.Set = subtractSet(a.Set, b.Set)
	}
	return a
}

func containsOne(a, b *Resource) bool {
	switch a.Type {
	case Scalar:
		return a.Scalar >= b.Scalar
	case Ranges:
		return containsRanges(a.Ranges, b.Ranges)
	case Set:
		return containsSet(a.Set, b.Set)
	}
	return false
}

// Sets are sorted and unique, so union, difference and inclusion are merges.

func unionSet(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func subtractSet(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	var out []string
	j := 0
	for _, it := range a {
		for j < len(b) && b[j] < it {
			j++
		}
		if j < len(b) && b[j] == it {
			continue
		}
		out = append(out, it)
	}
	return out
}

func containsSet(a, b []string) bool {
	i := 0
	for _, it := range b {
		for i < len(a) && a[i] < it {
			i++
		}
		if i == len(a) || a[i] != it {
			return false
		}
	}
	return true
}

// cloneResource returns r with its own copies of Ranges and Set.
func cloneResource(r Resource) Resource {
	r.Ranges = slices.Clone(r.Ranges)
	r.Set = slices.Clone(r.Set)
	return r
}
