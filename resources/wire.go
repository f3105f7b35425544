package resources

import "fmt"

// wireResource is a Mesos Resource as it arrives from outside (JSON flag or
// protobuf), before validation. Pointers and has* flags keep "absent" apart
// from "zero", which the validation rules need.
type wireResource struct {
	name, typ, role *string
	scalar          *float64
	hasRanges       bool
	ranges          []Range
	hasSet          bool
	set             []string
	reservations    []wireReservation
	// legacyDynamic is the pre-refinement `reservation` field, which only
	// ever describes a dynamic reservation for the `role` field's role.
	legacyDynamic bool
	// unsupported names a field that is set but that Cairn cannot honor yet
	// (disk info, revocable, shared, provider): refusing beats ignoring it.
	unsupported string
}

type wireReservation struct {
	typ, role *string
	// labels is set when the reservation carries labels, which Cairn
	// cannot keep apart yet; a principal is accepted and not kept.
	labels bool
}

// resource applies Mesos's validation rules for a Resource message and
// returns the entry it describes.
func (w wireResource) resource() (Resource, error) {
	if w.name == nil || *w.name == "" {
		return Resource{}, fmt.Errorf("missing name")
	}
	if w.typ == nil {
		return Resource{}, fmt.Errorf("missing type")
	}
	if w.unsupported != "" {
		return Resource{}, fmt.Errorf("%s is not supported", w.unsupported)
	}
	typ, err := ParseType(*w.typ)
	if err != nil {
		return Resource{}, err
	}
	r := Resource{Name: *w.name, Type: typ}
	has := [3]bool{w.scalar != nil, w.hasRanges, w.hasSet}
	for t, set := range has {
		if set != (Type(t) == typ) {
			return Resource{}, fmt.Errorf("a %v resource must have exactly the %s value", typ, valueField(typ))
		}
	}
	switch typ {
	case Scalar:
		if r.Scalar, err = FixedFromFloat(*w.scalar); err != nil {
			return Resource{}, fmt.Errorf("scalar %v: %w", *w.scalar, err)
		}
	case Ranges:
		r.Ranges = w.ranges
	case Set:
		r.Set = w.set
	}
	if r.Role, r.Dynamic, err = w.reservedRole(); err != nil {
		return Resource{}, err
	}
	if err := r.Validate(); err != nil {
		return Resource{}, err
	}
	return r, nil
}

func valueField(t Type) string {
	switch t {
	case Ranges:
		return "ranges"
	case Set:
		return "set"
	}
	return "scalar"
}

// reservedRole reconciles the two formats Mesos has for reservations: the old
// `role` field (with a `reservation` message when it is dynamic) and the
// newer `reservations` stack. A stack of one, STATIC or DYNAMIC, is
// supported; refined reservations (stacks of several) are not.
func (w wireResource) reservedRole() (role string, dynamic bool, err error) {
	role = Unreserved
	if w.role != nil {
		role = *w.role
		if err := ValidateRole(role); err != nil {
			return "", false, err
		}
	}
	if w.legacyDynamic && role == Unreserved {
		return "", false, fmt.Errorf("a dynamic reservation needs a role")
	}
	switch len(w.reservations) {
	case 0:
		return role, w.legacyDynamic, nil
	case 1:
	default:
		return "", false, fmt.Errorf("refined reservations are not supported")
	}
	rv := w.reservations[0]
	if rv.typ == nil || rv.role == nil {
		return "", false, fmt.Errorf("a reservation needs a type and a role")
	}
	switch *rv.typ {
	case "STATIC":
	case "DYNAMIC":
		dynamic = true
	default:
		return "", false, fmt.Errorf("%s reservations are not supported", *rv.typ)
	}
	if rv.labels {
		return "", false, fmt.Errorf("reservation labels are not supported")
	}
	if *rv.role == Unreserved {
		return "", false, fmt.Errorf("role \"*\" cannot be reserved")
	}
	if err := ValidateRole(*rv.role); err != nil {
		return "", false, err
	}
	if w.role != nil && *w.role != *rv.role {
		return "", false, fmt.Errorf("role %q does not match the reservation's role %q", *w.role, *rv.role)
	}
	if w.legacyDynamic && !dynamic {
		return "", false, fmt.Errorf("a static reservation with a dynamic reservation field")
	}
	return *rv.role, dynamic, nil
}
