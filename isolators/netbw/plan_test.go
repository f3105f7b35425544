package netbw

import "testing"

func TestParams(t *testing.T) {
	const link = 100e6
	for _, c := range []struct {
		name string
		got  params
		want params
	}{
		{"framework ceil link", frameworkParams(20e6, link, CeilLink), params{20e6, link, 125000}},
		{"framework ceil rate", frameworkParams(50e6, link, CeilRate), params{50e6, 50e6, 312500}},
		{"framework over link", frameworkParams(200e6, link, CeilLink), params{200e6, 200e6, 1250000}},
		{"tiny framework", frameworkParams(12e3, link, CeilLink), params{12e3, link, 1600}},
		{"default, spare", defaultParams(link, 70e6), params{30e6, link, 187500}},
		{"default, overcommitted", defaultParams(link, 120e6), params{2e6, link, 12500}},
		{"default, nearly full", defaultParams(link, 99e6), params{2e6, link, 12500}},
		{"root", rootParams(link), params{link, link, 625000}},
		{"root 100G", rootParams(100e9), params{100e9, 100e9, 1 << 24}},
	} {
		if c.got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestParseCeil(t *testing.T) {
	for in, want := range map[string]Ceil{"": CeilLink, "link": CeilLink, "rate": CeilRate} {
		if got, err := ParseCeil(in); err != nil || got != want {
			t.Errorf("ParseCeil(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseCeil("max"); err == nil {
		t.Error(`ParseCeil("max"): no error`)
	}
}

func TestFreeMinor(t *testing.T) {
	used := map[uint16]bool{16: true, 17: true, 19: true}
	if m, err := freeMinor(used); err != nil || m != 18 {
		t.Errorf("freeMinor = %d, %v; want 18", m, err)
	}
	full := map[uint16]bool{}
	for m := firstFrameworkMinor; m <= lastFrameworkMinor; m++ {
		full[uint16(m)] = true
	}
	if _, err := freeMinor(full); err == nil {
		t.Error("freeMinor on a full tree: no error")
	}
}
