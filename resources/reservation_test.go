package resources

import (
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
)

func TestDynamicReservations(t *testing.T) {
	rs := MustParse("cpus(eng,dynamic):2;cpus(eng):1;cpus:4")
	if got := rs.String(); got != "cpus:4;cpus(eng):1;cpus(eng,dynamic):2" {
		t.Fatalf("String = %q: static and dynamic must stay apart, static first", got)
	}
	if !MustParse(rs.String()).Equal(rs) {
		t.Fatal("dynamic reservation does not round-trip through text")
	}
	if got := rs.Reserved("eng").String(); got != "cpus(eng):1;cpus(eng,dynamic):2" {
		t.Errorf("Reserved(eng) = %q", got)
	}
	if got := rs.ToUnreserved().String(); got != "cpus:7" {
		t.Errorf("ToUnreserved = %q", got)
	}
	if MustParse("cpus(eng):2").Contains(MustParse("cpus(eng,dynamic):1")) {
		t.Error("a static reservation contains a dynamic one")
	}
	back, err := FromProto(rs.ToProto(""))
	if err != nil || !back.Equal(rs) {
		t.Fatalf("proto round trip: %q, %v", back, err)
	}
	for _, p := range MustParse("cpus(eng,dynamic):1").ToProto("") {
		if p.GetReservation() == nil || p.Reservations[0].GetType() != mesospb.Resource_ReservationInfo_DYNAMIC {
			t.Errorf("dynamic reservation written as %v", p)
		}
	}
	// The pre-refinement format: role plus a reservation message.
	s := func(v string) *string { return &v }
	one := 1.0
	legacy, err := FromProto([]*mesospb.Resource{{Name: s("cpus"), Type: mesospb.Value_SCALAR.Enum(),
		Scalar: &mesospb.Value_Scalar{Value: &one}, Role: s("eng"),
		Reservation: &mesospb.Resource_ReservationInfo{Principal: s("ops")}}})
	if err != nil || legacy.String() != "cpus(eng,dynamic):1" {
		t.Errorf("legacy dynamic reservation = %q, %v", legacy, err)
	}
}

func TestHierarchicalAllocatable(t *testing.T) {
	rs := MustParse("cpus:1;cpus(eng):2;cpus(eng/web):4;cpus(engineering):8;cpus(ops):16")
	for _, c := range []struct{ role, want string }{
		{"*", "cpus:1"},
		{"eng", "cpus:1;cpus(eng):2"},
		{"eng/web", "cpus:1;cpus(eng):2;cpus(eng/web):4"},
		{"eng/web/a", "cpus:1;cpus(eng):2;cpus(eng/web):4"},
		{"engineering", "cpus:1;cpus(engineering):8"},
		{"ops/x", "cpus:1;cpus(ops):16"},
	} {
		if got := rs.AllocatableTo(c.role).String(); got != c.want {
			t.Errorf("AllocatableTo(%s) = %q, want %q", c.role, got, c.want)
		}
	}
	for _, c := range []struct {
		role, ancestor string
		want           bool
	}{
		{"eng/web", "eng", true}, {"eng/web/a", "eng", true}, {"eng", "eng", false},
		{"engineering", "eng", false}, {"eng", "eng/web", false}, {"eng", "*", false},
	} {
		if got := IsSubrole(c.role, c.ancestor); got != c.want {
			t.Errorf("IsSubrole(%s, %s) = %v", c.role, c.ancestor, got)
		}
	}
	if p, ok := ParentRole("a/b/c"); !ok || p != "a/b" {
		t.Errorf("ParentRole(a/b/c) = %q, %v", p, ok)
	}
	if _, ok := ParentRole("a"); ok {
		t.Error("ParentRole(a) has a parent")
	}
}

func TestCapScalar(t *testing.T) {
	rs := MustParse("cpus:4;cpus(eng):2;mem:1024;ports:[1-5]")
	for _, c := range []struct {
		name  string
		limit float64
		want  string
	}{
		{"cpus", 1.5, "cpus:1.5;cpus(eng):2;mem:1024;ports:[1-5]"},
		{"cpus", 0, "cpus(eng):2;mem:1024;ports:[1-5]"},
		{"cpus", 9, "cpus:4;cpus(eng):2;mem:1024;ports:[1-5]"},
		{"ports", 0, "cpus:4;cpus(eng):2;mem:1024;ports:[1-5]"},
		{"gpus", 0, "cpus:4;cpus(eng):2;mem:1024;ports:[1-5]"},
	} {
		limit, _ := FixedFromFloat(c.limit)
		if got := rs.CapScalar(c.name, limit).String(); got != c.want {
			t.Errorf("CapScalar(%s, %v) = %q, want %q", c.name, c.limit, got, c.want)
		}
	}
	if rs.String() != "cpus:4;cpus(eng):2;mem:1024;ports:[1-5]" {
		t.Error("CapScalar changed its receiver")
	}
	if !rs.HasReserved() || MustParse("cpus:1").HasReserved() {
		t.Error("HasReserved is wrong")
	}
}
