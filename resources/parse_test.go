package resources

import (
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", ""},
		{"  ", ""},
		{"cpus:4", "cpus:4"},
		{"cpus:4;mem:2048;disk:10000", "cpus:4;disk:10000;mem:2048"},
		{" cpus : 4 ; mem:2048 ;", "cpus:4;mem:2048"},
		{"cpus:0.5;cpus:0.25", "cpus:0.75"},
		{"cpus:0.0005", "cpus:0.001"}, // Mesos rounds half away from zero
		{"cpus:1.0004", "cpus:1"},
		{"cpus:0", ""},
		{"cpus:1e2", "cpus:100"},
		{"ports:[31000-32000,40000-40100]", "ports:[31000-32000,40000-40100]"},
		{"ports:[ 40000-40100 , 31000-32000 ]", "ports:[31000-32000,40000-40100]"},
		{"ports:[1-2,3-4]", "ports:[1-4]"},
		{"ports:[80]", "ports:[80-80]"},
		{"ports:[]", ""},
		{"ports:[1-5];ports:[6-9]", "ports:[1-9]"},
		{"zones:{b,a}", "zones:{a,b}"},
		{"zones:{ a , b }", "zones:{a,b}"},
		{"cpus(eng):2;cpus:4", "cpus:4;cpus(eng):2"},
		{"cpus(*):2", "cpus:2"},
		{"cpus( eng/batch ):2", "cpus(eng/batch):2"},
		{"ports(eng):[1-5];ports:[1-5]", "ports:[1-5];ports(eng):[1-5]"},
		{"nvidia.com/gpu:2", "nvidia.com/gpu:2"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`, "cpus:4"},
		{`[]`, ""},
		{` [{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},
		    {"name":"zones","type":"SET","set":{"item":["b","a"]}},
		    {"name":"mem","type":"SCALAR","scalar":{"value":1024.5},"role":"eng"},
		    {"name":"disk","type":"SCALAR","scalar":{"value":10},"reservations":[{"type":"STATIC","role":"ops"}]}]`,
			"disk(ops):10;mem(eng):1024.5;ports:[31000-32000];zones:{a,b}"},
	} {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
		again, err := Parse(got.String())
		if err != nil || !again.Equal(got) {
			t.Errorf("Parse(%q).String() = %q does not round-trip: %v, %v", c.in, got, again, err)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, c := range []struct {
		in, wantErr string // wantErr: a substring naming the problem
	}{
		{"cpus", `"cpus": want exactly one ':'`},
		{"cpus:4:5", `"cpus:4:5"`},
		{"cpus:-1", `"cpus:-1": scalar value "-1": negative`},
		{"cpus:NaN", `"cpus:NaN": scalar value "NaN": value is not finite`},
		{"cpus:inf", `not finite`},
		{"cpus:+Inf", `not finite`},
		{"cpus:1e300", `too large`},
		{"cpus:0.0001", `below 0.001`},
		{"cpus:four", `"four" is not a number`},
		{":4", `empty resource name`},
		{"(eng):4", `empty resource name`},
		{"cp us:4", `reserved character`},
		{"cpus(eng:4", `mismatched parentheses`},
		{"cpus(eng)x:4", `mismatched parentheses`},
		{"cpus():4", `empty role`},
		{"cpus(-a):4", `starting with '-'`},
		{"cpus(a//b):4", `empty component`},
		{"cpus(a/*):4", `'*' may only stand alone`},
		{"cpus(..):4", `component ".."`},
		{"ports:[32000-31000]", `inverted range 32000-31000`},
		{"ports:[1-10,5-20]", `overlapping ranges 1-10 and 5-20`},
		{"ports:[1-10];ports:[10-12]", `overlapping ranges 1-10 and 10-12`},
		{"ports:[1-a]", `range "1-a"`},
		{"ports:[1-2", `closing ']'`},
		{"ports:[-5]", `range "-5"`},
		{"zones:{a,a}", `duplicate set item "a"`},
		{"zones:{a,}", `empty set item`},
		{"zones:{a", `closing '}'`},
		{"ports:[1-2];ports:5", `ports given as both RANGES and SCALAR`},
		{`[{"type":"SCALAR","scalar":{"value":1}}]`, `resource 0: missing name`},
		{`[{"name":"cpus","scalar":{"value":1}}]`, `resource 0 (cpus): missing type`},
		{`[{"name":"cpus","type":"TEXT"}]`, `TEXT is not supported`},
		{`[{"name":"cpus","type":"BOGUS","scalar":{"value":1}}]`, `unknown resource type "BOGUS"`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]`, `negative`},
		{`[{"name":"cpus","type":"SCALAR"}]`, `exactly the scalar value`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"set":{"item":["a"]}}]`, `exactly the scalar value`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{}}]`, `scalar without value`},
		{`[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}]`, `inverted range 5-1`},
		{`[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5}]}}]`, `begin and end`},
		{`[{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{}}]`, `unknown field "disk"`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"a","labels":{"labels":[{"key":"k"}]}}]}]`, `reservation labels are not supported`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b"}]}]`, `refined reservations are not supported`},
		{"cpus(*,dynamic):1", `cannot be reserved`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"b","reservations":[{"type":"STATIC","role":"a"}]}]`, `does not match`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"STATIC","role":"*"}]}]`, `cannot be reserved`},
		{`[{"name":"cpus",`, `parse resources JSON`},
		{`[] []`, `trailing data`},
	} {
		_, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error containing %q", c.in, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", c.in, err, c.wantErr)
		}
	}
}

func TestParseScalarsAreExact(t *testing.T) {
	// Adding 0.1 ten times drifts in float64; in fixed point it is exactly 1.
	sum := Resources{}
	tenth := MustParse("cpus:0.1")
	for range 10 {
		sum = sum.Add(tenth)
	}
	if !sum.Equal(MustParse("cpus:1")) {
		t.Fatalf("10 × 0.1 cpus = %v, want cpus:1", sum)
	}
}

func TestUnmarshalText(t *testing.T) {
	var rs Resources
	if err := rs.UnmarshalText([]byte("cpus:2;mem:64")); err != nil {
		t.Fatal(err)
	}
	b, _ := rs.MarshalText()
	if string(b) != "cpus:2;mem:64" {
		t.Fatalf("MarshalText = %q", b)
	}
	if err := rs.UnmarshalText([]byte("cpus:-2")); err == nil {
		t.Fatal("UnmarshalText accepted a negative value")
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"cpus:4;mem:2048;disk:10000;ports:[31000-32000,40000-40100];zones:{a,b};cpus(eng):2",
		"cpus:0.001", "ports:[1-2,3-4]", "cpus(a/b):1", "x:{}",
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`,
		`[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := Parse(in)
		if err != nil {
			return
		}
		// Whatever parses must print in a form that parses back to itself,
		// and obey the basic algebra.
		again, err := Parse(rs.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", in, rs, err)
		}
		if !again.Equal(rs) {
			t.Fatalf("round trip of %q: %q became %q", in, rs, again)
		}
		if !rs.Contains(rs) || !rs.Subtract(rs).IsEmpty() || !rs.Add(Resources{}).Equal(rs) {
			t.Fatalf("algebra fails on %q", rs)
		}
	})
}
