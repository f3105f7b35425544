package master

import (
	"fmt"
	"math"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// fromProto converts wire resources into a validated collection. It rejects
// what Mesos rejects: TEXT or unknown types, missing values, NaN, infinite
// and negative scalars. allocation_info is ignored: the master checks
// allocation roles itself. A DYNAMIC reservation (or the old `reservation`
// field) marks the entry Dynamic; disk info (persistent volumes) is not
// kept: a volume counts as the reserved disk it sits on.
func fromProto(in []*mesospb.Resource) (resources.Resources, error) {
	items := make([]resources.Resource, 0, len(in))
	for _, p := range in {
		r := resources.Resource{Name: p.GetName(), Role: p.GetRole()}
		if n := len(p.GetReservations()); n > 0 {
			last := p.GetReservations()[n-1]
			r.Role = last.GetRole()
			r.Dynamic = last.GetType() == mesospb.Resource_ReservationInfo_DYNAMIC
		} else if p.Reservation != nil {
			// Pre-refinement format: `reservation` marks a dynamic one.
			r.Dynamic = true
		}
		if r.Role == "" || r.Role == resources.Unreserved {
			r.Dynamic = false
		}
		if p.Type == nil {
			return resources.Resources{}, fmt.Errorf("resource %q has no type", p.GetName())
		}
		switch p.GetType() {
		case mesospb.Value_SCALAR:
			if p.Scalar == nil {
				return resources.Resources{}, fmt.Errorf("scalar resource %q has no value", p.GetName())
			}
			v := p.GetScalar().GetValue()
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return resources.Resources{}, fmt.Errorf("resource %q: value is not finite", p.GetName())
			}
			f, err := resources.FixedFromFloat(v)
			if err != nil {
				return resources.Resources{}, fmt.Errorf("resource %q: %w", p.GetName(), err)
			}
			r.Type, r.Scalar = resources.Scalar, f
		case mesospb.Value_RANGES:
			if p.Ranges == nil {
				return resources.Resources{}, fmt.Errorf("ranges resource %q has no value", p.GetName())
			}
			r.Type = resources.Ranges
			for _, rg := range p.GetRanges().GetRange() {
				r.Ranges = append(r.Ranges, resources.Range{Begin: rg.GetBegin(), End: rg.GetEnd()})
			}
		case mesospb.Value_SET:
			if p.Set == nil {
				return resources.Resources{}, fmt.Errorf("set resource %q has no value", p.GetName())
			}
			r.Type, r.Set = resources.Set, append([]string(nil), p.GetSet().GetItem()...)
		default:
			return resources.Resources{}, fmt.Errorf("resource %q has unsupported type %v", p.GetName(), p.GetType())
		}
		items = append(items, r)
	}
	return resources.New(items...)
}

// toProto converts rs to the wire; allocRole, when not empty, is set as
// allocation_info on every resource (MULTI_ROLE frameworks only).
func toProto(rs resources.Resources, allocRole string) []*mesospb.Resource {
	out := make([]*mesospb.Resource, 0, rs.Len())
	for r := range rs.All() {
		p := &mesospb.Resource{Name: proto.String(r.Name)}
		role := r.Role
		if role == "" {
			role = resources.Unreserved
		}
		// Pre-refinement format, which every framework understands: role
		// always set, plus the reservation stack when reserved.
		p.Role = proto.String(role)
		if role != resources.Unreserved {
			typ := mesospb.Resource_ReservationInfo_STATIC
			if r.Dynamic {
				typ = mesospb.Resource_ReservationInfo_DYNAMIC
			}
			p.Reservations = []*mesospb.Resource_ReservationInfo{{Type: typ.Enum(), Role: proto.String(role)}}
		}
		switch r.Type {
		case resources.Scalar:
			p.Type = mesospb.Value_SCALAR.Enum()
			p.Scalar = &mesospb.Value_Scalar{Value: proto.Float64(r.Scalar.Float())}
		case resources.Ranges:
			p.Type = mesospb.Value_RANGES.Enum()
			p.Ranges = &mesospb.Value_Ranges{}
			for _, rg := range r.Ranges {
				p.Ranges.Range = append(p.Ranges.Range, &mesospb.Value_Range{Begin: proto.Uint64(rg.Begin), End: proto.Uint64(rg.End)})
			}
		case resources.Set:
			p.Type = mesospb.Value_SET.Enum()
			p.Set = &mesospb.Value_Set{Item: append([]string(nil), r.Set...)}
		}
		if allocRole != "" {
			p.AllocationInfo = &mesospb.Resource_AllocationInfo{Role: proto.String(allocRole)}
		}
		out = append(out, p)
	}
	return out
}
