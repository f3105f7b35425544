package resources

import (
	"math"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
)

func TestProtoRoundTrip(t *testing.T) {
	rs := MustParse("cpus:4;cpus(eng):0.5;mem:1024;ports:[31000-32000,40000-40100];zones:{a,b}")
	pb := rs.ToProto("")
	for _, p := range pb {
		if p.AllocationInfo != nil {
			t.Fatalf("allocation_info set without being asked: %v", p)
		}
		reserved := p.GetRole() != "*"
		if reserved != (len(p.Reservations) == 1) {
			t.Fatalf("resource %v: role %q with %d reservations", p.GetName(), p.GetRole(), len(p.Reservations))
		}
	}
	back, err := FromProto(pb)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(rs) {
		t.Fatalf("round trip: %s became %s", rs, back)
	}
	for _, p := range rs.ToProto("eng") {
		if p.GetAllocationInfo().GetRole() != "eng" {
			t.Fatalf("allocation_info missing on %v", p)
		}
	}
}

func TestFromProtoFormats(t *testing.T) {
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	scalar := mesospb.Value_SCALAR.Enum()
	static := mesospb.Resource_ReservationInfo_STATIC.Enum()
	got, err := FromProto([]*mesospb.Resource{
		// Old format: role field only.
		{Name: s("cpus"), Type: scalar, Scalar: &mesospb.Value_Scalar{Value: f(1)}, Role: s("eng")},
		// New format: reservations only.
		{Name: s("cpus"), Type: scalar, Scalar: &mesospb.Value_Scalar{Value: f(2)},
			Reservations: []*mesospb.Resource_ReservationInfo{{Type: static, Role: s("eng")}}},
		// No role at all: unreserved.
		{Name: s("mem"), Type: scalar, Scalar: &mesospb.Value_Scalar{Value: f(64)},
			AllocationInfo: &mesospb.Resource_AllocationInfo{Role: s("eng")}},
	})
	if err != nil || got.String() != "cpus(eng):3;mem:64" {
		t.Fatalf("FromProto = %q, %v", got, err)
	}
}

func TestFromProtoRejects(t *testing.T) {
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	u := func(v uint64) *uint64 { return &v }
	scalar, ranges, set := mesospb.Value_SCALAR.Enum(), mesospb.Value_RANGES.Enum(), mesospb.Value_SET.Enum()
	cpus := func(v float64) *mesospb.Value_Scalar { return &mesospb.Value_Scalar{Value: f(v)} }
	for _, c := range []struct {
		name string
		in   *mesospb.Resource
		want string
	}{
		{"no name", &mesospb.Resource{Type: scalar, Scalar: cpus(1)}, "missing name"},
		{"no type", &mesospb.Resource{Name: s("cpus"), Scalar: cpus(1)}, "missing type"},
		{"NaN", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(math.NaN())}, "not finite"},
		{"Inf", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(math.Inf(1))}, "not finite"},
		{"negative", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(-1)}, "negative"},
		{"no value", &mesospb.Resource{Name: s("cpus"), Type: scalar}, "exactly the scalar value"},
		{"scalar without value", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: &mesospb.Value_Scalar{}}, "scalar without value"},
		{"wrong value", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Set: &mesospb.Value_Set{}}, "exactly the scalar value"},
		{"TEXT", &mesospb.Resource{Name: s("x"), Type: mesospb.Value_TEXT.Enum()}, "TEXT is not supported"},
		{"unknown type", &mesospb.Resource{Name: s("x"), Type: mesospb.Value_Type(9).Enum()}, "unknown resource type"},
		{"inverted", &mesospb.Resource{Name: s("ports"), Type: ranges, Ranges: &mesospb.Value_Ranges{
			Range: []*mesospb.Value_Range{{Begin: u(9), End: u(1)}}}}, "inverted range 9-1"},
		{"overlap", &mesospb.Resource{Name: s("ports"), Type: ranges, Ranges: &mesospb.Value_Ranges{
			Range: []*mesospb.Value_Range{{Begin: u(1), End: u(5)}, {Begin: u(5), End: u(6)}}}}, "overlapping ranges"},
		{"half range", &mesospb.Resource{Name: s("ports"), Type: ranges, Ranges: &mesospb.Value_Ranges{
			Range: []*mesospb.Value_Range{{Begin: u(1)}}}}, "begin and end"},
		{"duplicate item", &mesospb.Resource{Name: s("z"), Type: set, Set: &mesospb.Value_Set{Item: []string{"a", "a"}}}, "duplicate set item"},
		{"bad role", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Role: s("-x")}, "starting with '-'"},
		{"disk", &mesospb.Resource{Name: s("disk"), Type: scalar, Scalar: cpus(1), Disk: &mesospb.Resource_DiskInfo{}}, "disk info is not supported"},
		{"revocable", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Revocable: &mesospb.Resource_RevocableInfo{}}, "revocable resources is not supported"},
		{"labels", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Reservations: []*mesospb.Resource_ReservationInfo{
			{Type: mesospb.Resource_ReservationInfo_DYNAMIC.Enum(), Role: s("eng"), Labels: &mesospb.Labels{Labels: []*mesospb.Label{{Key: s("k")}}}}}}, "reservation labels are not supported"},
		{"legacy dynamic unreserved", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Reservation: &mesospb.Resource_ReservationInfo{}}, "needs a role"},
		{"role mismatch", &mesospb.Resource{Name: s("cpus"), Type: scalar, Scalar: cpus(1), Role: s("ops"), Reservations: []*mesospb.Resource_ReservationInfo{
			{Type: mesospb.Resource_ReservationInfo_STATIC.Enum(), Role: s("eng")}}}, "does not match"},
	} {
		_, err := FromProto([]*mesospb.Resource{c.in})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: FromProto error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := FromProto([]*mesospb.Resource{nil}); err == nil {
		t.Error("FromProto accepted a null resource")
	}
}
