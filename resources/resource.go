package resources

import (
	"fmt"
	"slices"
	"strings"
)

// Type is the Mesos Value.Type of a resource. TEXT exists in Mesos's Value but
// no resource may have it, so it has no constant here.
type Type uint8

// The resource types, numbered as in mesos.proto's Value.Type.
const (
	Scalar Type = 0
	Ranges Type = 1
	Set    Type = 2
)

func (t Type) String() string {
	switch t {
	case Scalar:
		return "SCALAR"
	case Ranges:
		return "RANGES"
	case Set:
		return "SET"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType reads a Mesos type name ("SCALAR", "RANGES", "SET").
func ParseType(s string) (Type, error) {
	switch s {
	case "SCALAR":
		return Scalar, nil
	case "RANGES":
		return Ranges, nil
	case "SET":
		return Set, nil
	case "TEXT":
		return 0, fmt.Errorf("resource type TEXT is not supported")
	}
	return 0, fmt.Errorf("unknown resource type %q", s)
}

// Unreserved is the role of resources any role may use.
const Unreserved = "*"

// Resource is one named quantity. Only the field matching Type is meaningful.
// Role is the role the resource is reserved for, "*" (or "") when it is not
// reserved. Dynamic marks a reservation made at run time (a RESERVE
// operation) rather than by the agent's --resources: only those may be
// unreserved. Static and dynamic reservations of one role are distinct
// entries, as in Mesos.
type Resource struct {
	Name    string
	Role    string
	Dynamic bool
	Type    Type
	Scalar  Fixed
	Ranges  []Range
	Set     []string
}

// NewScalar returns an unreserved scalar resource; v must be a valid quantity
// (see FixedFromFloat), which constants in code always are.
func NewScalar(name string, v float64) Resource {
	return Resource{Name: name, Role: Unreserved, Type: Scalar, Scalar: MustFixed(v)}
}

// NewRanges returns an unreserved ranges resource.
func NewRanges(name string, rs ...Range) Resource {
	return Resource{Name: name, Role: Unreserved, Type: Ranges, Ranges: rs}
}

// NewSet returns an unreserved set resource.
func NewSet(name string, items ...string) Resource {
	return Resource{Name: name, Role: Unreserved, Type: Set, Set: items}
}

// WithRole returns a copy of r reserved for role.
func (r Resource) WithRole(role string) Resource {
	r.Role = role
	return r
}

// IsEmpty reports whether the resource holds nothing.
func (r Resource) IsEmpty() bool {
	switch r.Type {
	case Scalar:
		return r.Scalar == 0
	case Ranges:
		return len(r.Ranges) == 0
	case Set:
		return len(r.Set) == 0
	}
	return true
}

// Validate checks what a resource from outside must satisfy: a usable name, a
// valid role, a known type, and a well-formed value (no overlapping or
// inverted ranges, no duplicate set items). Scalars are already valid by
// construction of Fixed, except for negative values made by hand.
func (r Resource) Validate() error {
	if err := validateName(r.Name); err != nil {
		return err
	}
	if r.Role != "" {
		if err := ValidateRole(r.Role); err != nil {
			return fmt.Errorf("resource %s: %w", r.Name, err)
		}
	}
	if r.Dynamic && (r.Role == "" || r.Role == Unreserved) {
		return fmt.Errorf("resource %s: a dynamic reservation needs a role", r.Name)
	}
	switch r.Type {
	case Scalar:
		if r.Scalar < 0 {
			return fmt.Errorf("resource %s: %w", r.Name, errNegative)
		}
	case Ranges:
		if err := validateRanges(r.Ranges); err != nil {
			return fmt.Errorf("resource %s: %w", r.Name, err)
		}
	case Set:
		seen := make(map[string]bool, len(r.Set))
		for _, it := range r.Set {
			if err := validateItem(it); err != nil {
				return fmt.Errorf("resource %s: %w", r.Name, err)
			}
			if seen[it] {
				return fmt.Errorf("resource %s: duplicate set item %q", r.Name, it)
			}
			seen[it] = true
		}
	default:
		return fmt.Errorf("resource %s: %v is not a valid type", r.Name, r.Type)
	}
	return nil
}

// nameBreakers are the characters of the text syntax; a name or set item
// holding one could not be written back by String.
const nameBreakers = ";:()[]{},\""

func validateName(name string) error {
	if name == "" {
		return fmt.Errorf("empty resource name")
	}
	if strings.ContainsAny(name, nameBreakers) || hasSpaceOrControl(name) {
		return fmt.Errorf("resource name %q has a reserved character", name)
	}
	return nil
}

func validateItem(item string) error {
	if item == "" {
		return fmt.Errorf("empty set item")
	}
	if strings.ContainsAny(item, nameBreakers) || hasSpaceOrControl(item) {
		return fmt.Errorf("set item %q has a reserved character", item)
	}
	return nil
}

func hasSpaceOrControl(s string) bool {
	for _, c := range s {
		if c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// normalized returns r with role defaulted and value in canonical form,
// sharing nothing with r.
func (r Resource) normalized() Resource {
	if r.Role == "" {
		r.Role = Unreserved
	}
	switch r.Type {
	case Scalar:
		r.Ranges, r.Set = nil, nil
	case Ranges:
		r.Scalar, r.Set = 0, nil
		r.Ranges = normalizeRanges(r.Ranges)
	case Set:
		r.Scalar, r.Ranges = 0, nil
		r.Set = normalizeSet(r.Set)
	}
	return r
}

func normalizeSet(items []string) []string {
	if len(items) == 0 {
		return nil
	}
	out := slices.Clone(items)
	slices.Sort(out)
	return slices.Compact(out)
}

// key orders resources inside a Resources value: by name, then role, then
// static before dynamic, then type, so that String is stable and merges are
// linear.
func compareKey(a, b *Resource) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Role, b.Role); c != 0 {
		return c
	}
	if a.Dynamic != b.Dynamic {
		if a.Dynamic {
			return 1
		}
		return -1
	}
	return int(a.Type) - int(b.Type)
}

// valueString writes the value part of the text syntax.
func (r Resource) valueString(sep string) string {
	switch r.Type {
	case Scalar:
		return r.Scalar.String()
	case Ranges:
		return formatRanges(r.Ranges, sep)
	case Set:
		return "{" + strings.Join(r.Set, sep) + "}"
	}
	return ""
}

// String writes the resource in the --resources text syntax: "cpus:4",
// "cpus(eng):2", "ports:[31000-32000]", "zones:{a,b}". A dynamic
// reservation, which Mesos's text syntax cannot express, is written
// "cpus(eng,dynamic):2", which Parse reads back.
func (r Resource) String() string {
	name := r.Name
	if r.Role != "" && r.Role != Unreserved {
		name += "(" + r.Role
		if r.Dynamic {
			name += dynamicSuffix
		}
		name += ")"
	}
	return name + ":" + r.valueString(",")
}

const dynamicSuffix = ",dynamic"
