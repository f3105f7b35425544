package agent

import (
	"fmt"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// resourcesFromProto and resourcesToProto convert the wire type. They stand
// in until the resources package exports its own conversion; only names,
// types, values and (static) roles are carried.
func resourcesFromProto(in []*mesospb.Resource) (resources.Resources, error) {
	var rs []resources.Resource
	for _, p := range in {
		role := p.GetRole()
		if n := len(p.GetReservations()); n > 0 {
			role = p.GetReservations()[n-1].GetRole()
		}
		var r resources.Resource
		switch p.GetType() {
		case mesospb.Value_SCALAR:
			r = resources.NewScalar(p.GetName(), p.GetScalar().GetValue())
		case mesospb.Value_RANGES:
			var ranges []resources.Range
			for _, x := range p.GetRanges().GetRange() {
				ranges = append(ranges, resources.Range{Begin: x.GetBegin(), End: x.GetEnd()})
			}
			r = resources.NewRanges(p.GetName(), ranges...)
		case mesospb.Value_SET:
			r = resources.NewSet(p.GetName(), p.GetSet().GetItem()...)
		default:
			return resources.Resources{}, fmt.Errorf("resource %q has unsupported type %s", p.GetName(), p.GetType())
		}
		if role != "" && role != resources.Unreserved {
			r = r.WithRole(role)
		}
		rs = append(rs, r)
	}
	return resources.New(rs...)
}

func resourcesToProto(rs resources.Resources) []*mesospb.Resource {
	var out []*mesospb.Resource
	for r := range rs.All() {
		p := &mesospb.Resource{Name: proto.String(r.Name)}
		switch r.Type {
		case resources.Scalar:
			p.Type = mesospb.Value_SCALAR.Enum()
			p.Scalar = &mesospb.Value_Scalar{Value: proto.Float64(r.Scalar.Float())}
		case resources.Ranges:
			p.Type = mesospb.Value_RANGES.Enum()
			p.Ranges = &mesospb.Value_Ranges{}
			for _, x := range r.Ranges {
				p.Ranges.Range = append(p.Ranges.Range, &mesospb.Value_Range{Begin: proto.Uint64(x.Begin), End: proto.Uint64(x.End)})
			}
		case resources.Set:
			p.Type = mesospb.Value_SET.Enum()
			p.Set = &mesospb.Value_Set{Item: r.Set}
		}
		if r.Role != "" && r.Role != resources.Unreserved {
			p.Reservations = []*mesospb.Resource_ReservationInfo{{
				Type: mesospb.Resource_ReservationInfo_STATIC.Enum(),
				Role: proto.String(r.Role),
			}}
		}
		out = append(out, p)
	}
	return out
}
