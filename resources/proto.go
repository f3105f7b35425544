package resources

import (
	"fmt"

	"github.com/cairnhq/cairn/api/mesospb"
)

// FromProto converts wire resources (offers, accepts, task and executor
// infos) into a validated collection, applying Mesos's rules: name and type
// are required; a scalar must be finite, non-negative and not vanish below
// 0.001; ranges must not be inverted or overlap; set items must be unique;
// only the value field matching the type may be set; reservations may use
// either the old `role` field or the `reservations` stack. Fields Cairn
// cannot honor yet (disk info, revocable, shared, resource providers,
// refined reservations, reservation labels) are refused rather than ignored;
// a reservation's principal is accepted and dropped.
// allocation_info is ignored: which role an offer was made to is the
// master's to check. Entries with the same name and role are added up.
func FromProto(in []*mesospb.Resource) (Resources, error) {
	items := make([]Resource, 0, len(in))
	for i, p := range in {
		if p == nil {
			return Resources{}, fmt.Errorf("convert resources: resource %d is null", i)
		}
		w, err := wireFromProto(p)
		if err == nil {
			var r Resource
			if r, err = w.resource(); err == nil {
				items = append(items, r)
				continue
			}
		}
		return Resources{}, fmt.Errorf("convert resources: resource %d%s: %w", i, nameSuffix(p.Name), err)
	}
	rs, err := combine(items)
	if err != nil {
		return Resources{}, fmt.Errorf("convert resources: %w", err)
	}
	return rs, nil
}

func wireFromProto(p *mesospb.Resource) (wireResource, error) {
	w := wireResource{name: p.Name, role: p.Role}
	if p.Type != nil {
		typ := p.Type.String()
		w.typ = &typ
	}
	if p.Scalar != nil {
		if p.Scalar.Value == nil {
			return w, fmt.Errorf("scalar without value")
		}
		w.scalar = p.Scalar.Value
	}
	if p.Ranges != nil {
		w.hasRanges = true
		for _, r := range p.Ranges.Range {
			if r == nil || r.Begin == nil || r.End == nil {
				return w, fmt.Errorf("range needs begin and end")
			}
			w.ranges = append(w.ranges, Range{*r.Begin, *r.End})
		}
	}
	if p.Set != nil {
		w.hasSet, w.set = true, p.Set.Item
	}
	for _, rv := range p.Reservations {
		if rv == nil {
			return w, fmt.Errorf("null reservation")
		}
		wr := wireReservation{role: rv.Role, labels: len(rv.GetLabels().GetLabels()) > 0}
		if rv.Type != nil {
			typ := rv.Type.String()
			wr.typ = &typ
		}
		w.reservations = append(w.reservations, wr)
	}
	switch {
	case p.Disk != nil:
		w.unsupported = "disk info"
	case p.Revocable != nil:
		w.unsupported = "revocable resources"
	case p.Shared != nil:
		w.unsupported = "shared resources"
	case p.ProviderId != nil:
		w.unsupported = "resource providers"
	case p.Reservation != nil && len(p.Reservation.GetLabels().GetLabels()) > 0:
		w.unsupported = "reservation labels"
	}
	w.legacyDynamic = p.Reservation != nil
	return w, nil
}

// ToProto converts rs to the wire. Every resource carries its role in both
// reservation formats Mesos accepts at once (the `role` field, plus an empty
// `reservation` for a dynamic one; and for reserved resources a single
// STATIC or DYNAMIC entry in `reservations`), so frameworks with and without
// RESERVATION_REFINEMENT read it alike. allocationRole,
// when not empty, is set as allocation_info on every resource: only
// MULTI_ROLE frameworks get it.
func (rs Resources) ToProto(allocationRole string) []*mesospb.Resource {
	out := make([]*mesospb.Resource, 0, len(rs.items))
	for _, r := range rs.items {
		p := &mesospb.Resource{
			Name: ptr(r.Name),
			Type: mesospb.Value_Type(r.Type).Enum(),
			Role: ptr(r.Role),
		}
		switch r.Type {
		case Scalar:
			p.Scalar = &mesospb.Value_Scalar{Value: ptr(r.Scalar.Float())}
		case Ranges:
			p.Ranges = &mesospb.Value_Ranges{Range: make([]*mesospb.Value_Range, len(r.Ranges))}
			for i, rg := range r.Ranges {
				p.Ranges.Range[i] = &mesospb.Value_Range{Begin: ptr(rg.Begin), End: ptr(rg.End)}
			}
		case Set:
			p.Set = &mesospb.Value_Set{Item: append([]string(nil), r.Set...)}
		}
		if r.Role != Unreserved {
			typ := mesospb.Resource_ReservationInfo_STATIC
			if r.Dynamic {
				typ = mesospb.Resource_ReservationInfo_DYNAMIC
				p.Reservation = &mesospb.Resource_ReservationInfo{}
			}
			p.Reservations = []*mesospb.Resource_ReservationInfo{{Type: typ.Enum(), Role: ptr(r.Role)}}
		}
		if allocationRole != "" {
			p.AllocationInfo = &mesospb.Resource_AllocationInfo{Role: ptr(allocationRole)}
		}
		out = append(out, p)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
