package net

import "testing"

func TestStatsSub(t *testing.T) {
	a := Stats{RxBytes: 100, RxPackets: 2, TxBytes: 1000, TxPackets: 10}
	b := Stats{RxBytes: 150, RxPackets: 3, TxBytes: 4000, TxPackets: 12}
	if d := b.Sub(a); d != (Stats{50, 1, 3000, 2}) {
		t.Errorf("b - a = %+v", d)
	}
	if d := a.Sub(b); d != a {
		t.Errorf("counted anew: a - b = %+v, want a", d)
	}
}
