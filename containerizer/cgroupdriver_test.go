package containerizer

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestChooseDriver(t *testing.T) {
	down := errors.New("no /run/systemd/system")
	tests := []struct {
		name      string
		requested string
		mode      cgroupMode
		systemd   error
		want      cgroupDriver
		wantErr   string
	}{
		{name: "auto on v2 with systemd", requested: DriverAuto, mode: modeUnified, want: driverSystemd},
		{name: "empty means auto", requested: "", mode: modeUnified, want: driverSystemd},
		{name: "auto on v2 without systemd", requested: DriverAuto, mode: modeUnified, systemd: down, want: driverCgroupfs},
		{name: "auto on hybrid keeps cgroupfs", requested: DriverAuto, mode: modeHybrid, want: driverCgroupfs},
		{name: "auto on v1 keeps cgroupfs", requested: DriverAuto, mode: modeLegacy, want: driverCgroupfs},
		{name: "cgroupfs forced on v2 with systemd", requested: DriverCgroupfs, mode: modeUnified, want: driverCgroupfs},
		{name: "systemd forced on hybrid", requested: DriverSystemd, mode: modeHybrid, want: driverSystemd},
		{name: "systemd forced without systemd", requested: DriverSystemd, mode: modeUnified, systemd: down, wantErr: "no /run/systemd/system"},
		{name: "unknown", requested: "systemdd", mode: modeUnified, wantErr: "unknown cgroups driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why, err := chooseDriver(tt.requested, tt.mode, tt.systemd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("chooseDriver error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("chooseDriver = %v, want %v", got, tt.want)
			}
			if why == "" {
				t.Error("no reason given")
			}
			if tt.systemd != nil && !strings.Contains(why, tt.systemd.Error()) {
				t.Errorf("reason %q does not say why systemd was not used", why)
			}
		})
	}
}

func TestNeedSystemd(t *testing.T) {
	for _, tt := range []struct {
		requested string
		mode      cgroupMode
		want      bool
	}{
		{DriverAuto, modeUnified, true},
		{"", modeUnified, true},
		{DriverAuto, modeHybrid, false},
		{DriverAuto, modeLegacy, false},
		{DriverSystemd, modeHybrid, true},
		{DriverCgroupfs, modeUnified, false},
		{"bogus", modeUnified, false},
	} {
		if got := needSystemd(tt.requested, tt.mode); got != tt.want {
			t.Errorf("needSystemd(%q, %v) = %v, want %v", tt.requested, tt.mode, got, tt.want)
		}
		// Whenever the probe is skipped, its result must not matter.
		if !needSystemd(tt.requested, tt.mode) {
			a, _, errA := chooseDriver(tt.requested, tt.mode, nil)
			b, _, errB := chooseDriver(tt.requested, tt.mode, errors.New("down"))
			if a != b || (errA == nil) != (errB == nil) {
				t.Errorf("chooseDriver(%q, %v) depends on systemd, but needSystemd says no", tt.requested, tt.mode)
			}
		}
	}
}

func TestSlicePath(t *testing.T) {
	for in, want := range map[string]string{
		"cairn.slice":        "/cairn.slice",
		"cairn-prod.slice":   "/cairn.slice/cairn-prod.slice",
		"a-b-c.slice":        "/a.slice/a-b.slice/a-b-c.slice",
		"system.slice":       "/system.slice",
		"machine-qemu.slice": "/machine.slice/machine-qemu.slice",
	} {
		if got := slicePath(in); got != want {
			t.Errorf("slicePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSystemdDirs(t *testing.T) {
	mounts := []cgroupMount{
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Controllers: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Controllers: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Controllers: []string{"name=systemd"}},
	}
	scope := "/cairn.slice/cairn-c1.scope"
	tests := []struct {
		name string
		mode cgroupMode
		id   string
		want map[string]string
	}{
		{name: "v2", mode: modeUnified, id: "c1", want: map[string]string{"": "/sys/fs/cgroup" + scope}},
		{name: "v2 slice", mode: modeUnified, want: map[string]string{"": "/sys/fs/cgroup/cairn.slice"}},
		{name: "hybrid", mode: modeHybrid, id: "c1", want: map[string]string{
			"":             "/sys/fs/cgroup/unified" + scope,
			"memory":       "/sys/fs/cgroup/memory" + scope,
			"cpu":          "/sys/fs/cgroup/cpu,cpuacct" + scope,
			"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct" + scope,
			"name=systemd": "/sys/fs/cgroup/systemd" + scope,
		}},
		{name: "v1", mode: modeLegacy, id: "c1", want: map[string]string{
			"memory":       "/sys/fs/cgroup/memory" + scope,
			"cpu":          "/sys/fs/cgroup/cpu,cpuacct" + scope,
			"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct" + scope,
			"name=systemd": "/sys/fs/cgroup/systemd" + scope,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := systemdDirs(tt.mode, mounts, tt.id); !maps.Equal(got, tt.want) {
				t.Errorf("systemdDirs = %v, want %v", got, tt.want)
			}
		})
	}
	// hostCgroups.dirs follows the driver; the cgroups root only matters
	// to cgroupfs.
	h := hostCgroups{mode: modeUnified, own: procCgroup{v2: "/cairn.slice/cairn-agent.service"}, driver: driverSystemd}
	if got, _ := h.dirs("cairn", "c1"); got[""] != "/sys/fs/cgroup"+scope {
		t.Errorf("systemd driver dirs = %v", got)
	}
	h.driver = driverCgroupfs
	if got, _ := h.dirs("cairn", "c1"); got[""] != "/sys/fs/cgroup/cairn.slice/cairn/c1" {
		t.Errorf("cgroupfs driver dirs = %v", got)
	}
}
