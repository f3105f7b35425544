package mesospb

import "testing"

func TestListsSortedByName(t *testing.T) {
	m := MetricList(map[string]float64{"b": 2, "a": 1})
	if len(m) != 2 || m[0].GetName() != "a" || m[0].GetValue() != 1 || m[1].GetName() != "b" || m[1].GetValue() != 2 {
		t.Errorf("metrics %v", m)
	}
	f := FlagList(map[string]string{"port": "5051", "ip": "0.0.0.0"})
	if len(f) != 2 || f[0].GetName() != "ip" || f[1].GetValue() != "5051" {
		t.Errorf("flags %v", f)
	}
	if len(MetricList(nil)) != 0 || len(FlagList(nil)) != 0 {
		t.Error("empty input must give empty lists")
	}
}
