package resources

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive interval [Begin, End] of a RANGES resource (ports).
type Range struct {
	Begin, End uint64
}

func (r Range) String() string {
	return strconv.FormatUint(r.Begin, 10) + "-" + strconv.FormatUint(r.End, 10)
}

// validateRanges checks what a user may not write: an inverted range, or two
// ranges that share a value (which would count those values twice). Adjacent
// ranges are fine; normalization coalesces them.
func validateRanges(rs []Range) error {
	for _, r := range rs {
		if r.Begin > r.End {
			return fmt.Errorf("inverted range %s", r)
		}
	}
	sorted := slices.Clone(rs)
	sortRanges(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Begin <= sorted[i-1].End {
			return fmt.Errorf("overlapping ranges %s and %s", sorted[i-1], sorted[i])
		}
	}
	return nil
}

func sortRanges(rs []Range) {
	slices.SortFunc(rs, func(a, b Range) int {
		if a.Begin != b.Begin {
			if a.Begin < b.Begin {
				return -1
			}
			return 1
		}
		if a.End < b.End {
			return -1
		} else if a.End > b.End {
			return 1
		}
		return 0
	})
}

// normalizeRanges returns a new sorted list with overlapping and adjacent
// ranges merged. Inverted ranges are dropped (callers validate first).
func normalizeRanges(rs []Range) []Range {
	out := make([]Range, 0, len(rs))
	for _, r := range rs {
		if r.Begin <= r.End {
			out = append(out, r)
		}
	}
	sortRanges(out)
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && (r.Begin <= merged[n-1].End || r.Begin-1 == merged[n-1].End) {
			merged[n-1].End = max(merged[n-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

// unionRanges adds two normalized lists in one merge.
func unionRanges(a, b []Range) []Range {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]Range, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var r Range
		if j == len(b) || (i < len(a) && a[i].Begin <= b[j].Begin) {
			r, i = a[i], i+1
		} else {
			r, j = b[j], j+1
		}
		if n := len(out); n > 0 && (r.Begin <= out[n-1].End || r.Begin-1 == out[n-1].End) {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractRanges removes b from a; both normalized, result normalized.
func subtractRanges(a, b []Range) []Range {
	if len(b) == 0 {
		return a
	}
	var out []Range
	j := 0
	for _, r := range a {
		cur := r
		empty := false
		// Skip the ranges of b that end before cur starts.
		for j < len(b) && b[j].End < cur.Begin {
			j++
		}
		for k := j; k < len(b) && b[k].Begin <= cur.End; k++ {
			hole := b[k]
			if hole.Begin > cur.Begin {
				out = append(out, Range{cur.Begin, hole.Begin - 1})
			}
			if hole.End >= cur.End {
				empty = true
				break
			}
			cur.Begin = hole.End + 1
		}
		if !empty {
			out = append(out, cur)
		}
	}
	return out
}

// containsRanges reports a ⊇ b for normalized lists. Because a is coalesced,
// each range of b must lie inside a single range of a.
func containsRanges(a, b []Range) bool {
	i := 0
	for _, r := range b {
		for i < len(a) && a[i].End < r.Begin {
			i++
		}
		if i == len(a) || a[i].Begin > r.Begin || a[i].End < r.End {
			return false
		}
	}
	return true
}

// formatRanges writes "[31000-32000,40000-40100]" with the given separator.
func formatRanges(rs []Range, sep string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(r.String())
	}
	b.WriteByte(']')
	return b.String()
}
