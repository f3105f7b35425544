package containerizer

import "testing"

func TestPlacement(t *testing.T) {
	h := hostCgroups{mode: modeUnified, driver: driverSystemd}
	p := h.placement("cairn", "c1")
	if !p.Systemd || p.Parent != "cairn.slice" || p.ScopePrefix != "cairn" || p.Name != "c1" || p.Path != "" {
		t.Errorf("systemd placement = %+v", p)
	}
	if len(p.SystemdProps) == 0 || p.SystemdProps[0].Name != "CollectMode" {
		t.Errorf("systemd placement lacks CollectMode: %+v", p.SystemdProps)
	}
	if ScopeName("c1") != "cairn-c1.scope" {
		t.Errorf("ScopeName = %s", ScopeName("c1"))
	}
	h.driver = driverCgroupfs
	if p := h.placement("cairn", "c1"); p.Systemd || p.Path != "cairn/c1" {
		t.Errorf("cgroupfs placement = %+v", p)
	}
}
