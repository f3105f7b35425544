package resources

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

func TestArithmetic(t *testing.T) {
	for _, c := range []struct {
		a, b, sum, diff string
		contains        bool
	}{
		{"cpus:4;mem:1024", "cpus:1", "cpus:5;mem:1024", "cpus:3;mem:1024", true},
		{"cpus:1", "cpus:4", "cpus:5", "", false},                        // floor at zero, dropped
		{"cpus:1", "mem:4", "cpus:1;mem:4", "cpus:1", false},             // subtracting the absent is a no-op
		{"cpus:2", "cpus(eng):1", "cpus:2;cpus(eng):1", "cpus:2", false}, // roles are distinct
		{"ports:[1-10]", "ports:[4-6]", "ports:[1-10]", "ports:[1-3,7-10]", true},
		{"ports:[1-10]", "ports:[1-10]", "ports:[1-10]", "", true},
		{"ports:[1-10]", "ports:[0-3,9-20]", "ports:[0-20]", "ports:[4-8]", false},
		{"ports:[1-3,7-9]", "ports:[4-6]", "ports:[1-9]", "ports:[1-3,7-9]", false},
		{"ports:[1-3,7-9]", "ports:[2-8]", "ports:[1-9]", "ports:[1-1,9-9]", false},
		{"ports:[0-18446744073709551615]", "ports:[18446744073709551615]", "ports:[0-18446744073709551615]", "ports:[0-18446744073709551614]", true},
		{"zones:{a,b,c}", "zones:{b}", "zones:{a,b,c}", "zones:{a,c}", true},
		{"zones:{a}", "zones:{a,b}", "zones:{a,b}", "", false},
		{"cpus:0.3", "cpus:0.1", "cpus:0.4", "cpus:0.2", true},
	} {
		a, b := MustParse(c.a), MustParse(c.b)
		if got := a.Add(b).String(); got != c.sum {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.sum)
		}
		if got := a.Subtract(b).String(); got != c.diff {
			t.Errorf("%s - %s = %s, want %s", c.a, c.b, got, c.diff)
		}
		if got := a.Contains(b); got != c.contains {
			t.Errorf("%s ⊇ %s = %v, want %v", c.a, c.b, got, c.contains)
		}
	}
}

func TestAccessors(t *testing.T) {
	rs := MustParse("cpus:4;cpus(eng):2.5;mem:1024;ports:[1-5];ports(eng):[6-9,20-30];zones:{a};zones(eng):{b}")
	if got := rs.Scalar("cpus"); got != 6.5 {
		t.Errorf("Scalar(cpus) = %v, want 6.5", got)
	}
	if got := rs.Scalar("gpus"); got != 0 {
		t.Errorf("Scalar(gpus) = %v, want 0", got)
	}
	if got := formatRanges(rs.Ranges("ports"), ","); got != "[1-9,20-30]" {
		t.Errorf("Ranges(ports) = %s", got)
	}
	if got := rs.Reserved("eng").String(); got != "cpus(eng):2.5;ports(eng):[6-9,20-30];zones(eng):{b}" {
		t.Errorf("Reserved(eng) = %s", got)
	}
	if got := rs.Unreserved().String(); got != "cpus:4;mem:1024;ports:[1-5];zones:{a}" {
		t.Errorf("Unreserved() = %s", got)
	}
	if got := rs.AllocatableTo("ops"); !got.Equal(rs.Unreserved()) {
		t.Errorf("AllocatableTo(ops) = %s", got)
	}
	if got := rs.AllocatableTo("eng"); !got.Equal(rs) {
		t.Errorf("AllocatableTo(eng) = %s", got)
	}
	if got := rs.ScalarQuantities().String(); got != "cpus:6.5;mem:1024" {
		t.Errorf("ScalarQuantities() = %s", got)
	}
	// Items is a deep copy: changing it must not change rs.
	items := rs.Items()
	items[len(items)-1].Set[0] = "zzz"
	if rs.SetItems("zones")[1] != "b" {
		t.Error("Items shares memory with the collection")
	}
}

func TestFlatten(t *testing.T) {
	got, err := json.Marshal(MustParse("cpus:4;mem:15360;disk:40000;ports:[31000-32000,40000-40100];cpus(eng):0.5;zones:{b,a}").Flatten())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cpus":4.5,"disk":40000,"gpus":0,"mem":15360,"ports":"[31000-32000, 40000-40100]","zones":"{a, b}"}`
	if string(got) != want {
		t.Errorf("Flatten = %s\nwant      %s", got, want)
	}
	empty, _ := json.Marshal(Resources{}.Flatten())
	if string(empty) != `{"cpus":0,"disk":0,"gpus":0,"mem":0}` {
		t.Errorf("Flatten of empty = %s", empty)
	}
}

// randomResources draws a small collection. Ports and set items come from
// [lo, lo+50) so that callers can draw disjoint collections.
func randomResources(r *rand.Rand, lo uint64) Resources {
	var rs []Resource
	roles := []string{"*", "eng"}
	for _, name := range []string{"cpus", "mem"} {
		if r.IntN(3) > 0 {
			rs = append(rs, Resource{Name: name, Role: roles[r.IntN(2)], Type: Scalar, Scalar: Fixed(r.Int64N(5000))})
		}
	}
	for range r.IntN(3) {
		b := lo + r.Uint64N(50)
		rs = append(rs, Resource{Name: "ports", Role: roles[r.IntN(2)], Type: Ranges,
			Ranges: []Range{{b, min(b+r.Uint64N(5), lo+49)}}})
	}
	for range r.IntN(3) {
		rs = append(rs, Resource{Name: "zones", Role: roles[r.IntN(2)], Type: Set,
			Set: []string{string(rune('a' + lo/100*10 + r.Uint64N(5)))}})
	}
	// Overlaps between the drawn entries are fine here: Add unites them.
	out := Resources{}
	for _, x := range rs {
		x.Dynamic = x.Role != Unreserved && r.IntN(2) == 0
		out = out.Add(Must(x))
	}
	return out
}

func TestArithmeticProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		a, b, c := randomResources(r, 0), randomResources(r, 100), randomResources(r, uint64(r.IntN(2))*100)
		check := func(name string, ok bool) {
			if !ok {
				t.Fatalf("case %d: %s fails for a=%q b=%q c=%q", i, name, a, b, c)
			}
		}
		check("a+b−b == a (b's ranges and sets disjoint from a's)", a.Add(b).Subtract(b).Equal(a))
		check("a+b ⊇ a and a+b ⊇ b", a.Add(b).Contains(a) && a.Add(b).Contains(b))
		check("a+c ⊇ c", a.Add(c).Contains(c))
		check("a ⊇ a−c", a.Contains(a.Subtract(c)))
		check("(a−c)+c ⊇ a", a.Subtract(c).Add(c).Contains(a))
		check("a+c == c+a", a.Add(c).Equal(c.Add(a)))
		check("(a+b)+c == a+(b+c)", a.Add(b).Add(c).Equal(a.Add(b.Add(c))))
		check("a ⊇ c and c ⊇ a iff a == c", (a.Contains(c) && c.Contains(a)) == a.Equal(c))
		check("a−c empty iff c ⊇ a", a.Subtract(c).IsEmpty() == c.Contains(a))
		check("reserved + unreserved == a", a.Reserved("eng").Add(a.Unreserved()).Equal(a))
		check("String round-trips", MustParse(a.String()).Equal(a))
		check("proto round-trips", func() bool { b, err := FromProto(a.ToProto("")); return err == nil && b.Equal(a) }())
		check("ToUnreserved keeps the scalar quantities", a.ToUnreserved().ScalarQuantities().Equal(a.ScalarQuantities()))
	}
}
