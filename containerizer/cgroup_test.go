package containerizer

import (
	"maps"
	"strings"
	"testing"
)

func TestDetectMode(t *testing.T) {
	tests := []struct {
		name          string
		root, unified int64
		want          cgroupMode
		driver        string
		wantErr       bool
	}{
		{name: "pure v2", root: cgroup2Magic, unified: 0, want: modeUnified, driver: "fs2"},
		{name: "pure v2 ignores a stray unified dir", root: cgroup2Magic, unified: cgroup2Magic, want: modeUnified, driver: "fs2"},
		{name: "hybrid", root: tmpfsMagic, unified: cgroup2Magic, want: modeHybrid, driver: "fs"},
		{name: "legacy", root: tmpfsMagic, unified: 0, want: modeLegacy, driver: "fs"},
		{name: "legacy, unified dir not cgroup2", root: tmpfsMagic, unified: tmpfsMagic, want: modeLegacy, driver: "fs"},
		{name: "nothing mounted", root: 0xEF53, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detectMode(tt.root, tt.unified)
			if (err != nil) != tt.wantErr {
				t.Fatalf("detectMode error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("detectMode = %v, want %v", got, tt.want)
			}
			if !tt.wantErr && got.driver() != tt.driver {
				t.Errorf("driver = %s, want %s", got.driver(), tt.driver)
			}
		})
	}
}

func TestMissingControllers(t *testing.T) {
	v1 := []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"}
	if m := missingControllers(modeHybrid, v1); len(m) != 0 {
		t.Errorf("hybrid host of kernel.md: missing %v", m)
	}
	if m := missingControllers(modeLegacy, []string{"cpu", "cpuacct", "memory", "devices"}); strings.Join(m, ",") != "pids,freezer" {
		t.Errorf("legacy without pids and freezer: missing %v", m)
	}
	// A hybrid host's v2 half holds only hugetlb: what counts is v1.
	if m := missingControllers(modeUnified, []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}); len(m) != 0 {
		t.Errorf("v2: missing %v", m)
	}
	if m := missingControllers(modeUnified, []string{"hugetlb"}); strings.Join(m, ",") != "cpu,memory,pids" {
		t.Errorf("v2 with hugetlb only: missing %v", m)
	}
}

// The /proc/self/cgroup of a process on the project's hybrid test machines.
const hybridProcCgroup = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/f3600b
3:cpuset:/
2:cpu,cpuacct:/
1:net_cls,net_prio:/
0::/
`

func TestParseProcCgroup(t *testing.T) {
	pc, err := parseProcCgroup(hybridProcCgroup)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string]string{"memory": "/process_api/f3600b", "cpu": "/", "cpuacct": "/", "name=systemd": "/", "net_prio": "/"} {
		if pc.v1[c] != want {
			t.Errorf("v1[%s] = %q, want %q", c, pc.v1[c], want)
		}
	}
	if pc.v2 != "/" {
		t.Errorf("v2 = %q, want /", pc.v2)
	}
	pc, err = parseProcCgroup("0::/system.slice/cairn-agent.service\n")
	if err != nil || pc.v2 != "/system.slice/cairn-agent.service" || len(pc.v1) != 0 {
		t.Errorf("pure v2: %+v, %v", pc, err)
	}
	if _, err := parseProcCgroup("garbage\n"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestCgroupDirs(t *testing.T) {
	own, _ := parseProcCgroup(hybridProcCgroup)
	v1 := []cgroupMount{
		{Mountpoint: "/sys/fs/cgroup/cpu", Root: "/", Controllers: []string{"cpu"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Controllers: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/pids", Root: "/", Controllers: []string{"pids"}},
	}
	tests := []struct {
		name string
		mode cgroupMode
		mnts []cgroupMount
		own  procCgroup
		root string
		want map[string]string
	}{
		{
			name: "hybrid, relative root below own cgroup per hierarchy",
			mode: modeHybrid, mnts: v1, own: own, root: "cairn",
			want: map[string]string{
				"cpu":    "/sys/fs/cgroup/cpu/cairn/c1",
				"memory": "/sys/fs/cgroup/memory/process_api/f3600b/cairn/c1",
				"pids":   "/sys/fs/cgroup/pids/cairn/c1",
				"":       "/sys/fs/cgroup/unified/cairn/c1",
			},
		},
		{
			name: "legacy, absolute root ignores own cgroup",
			mode: modeLegacy, mnts: v1, own: own, root: "/cairn",
			want: map[string]string{
				"cpu":    "/sys/fs/cgroup/cpu/cairn/c1",
				"memory": "/sys/fs/cgroup/memory/cairn/c1",
				"pids":   "/sys/fs/cgroup/pids/cairn/c1",
			},
		},
		{
			name: "legacy inside a container: mount root is a sub-hierarchy",
			mode: modeLegacy,
			mnts: []cgroupMount{{Mountpoint: "/sys/fs/cgroup/memory", Root: "/docker/abc", Controllers: []string{"memory"}}},
			own:  procCgroup{v1: map[string]string{"memory": "/docker/abc/agent"}},
			root: "cairn",
			want: map[string]string{"memory": "/sys/fs/cgroup/memory/agent/cairn/c1"},
		},
		{
			name: "v2, relative root below the parent of own cgroup",
			mode: modeUnified, own: procCgroup{v2: "/system.slice/cairn-agent.service"}, root: "cairn",
			want: map[string]string{"": "/sys/fs/cgroup/system.slice/cairn/c1"},
		},
		{
			name: "v2, agent in the root cgroup",
			mode: modeUnified, own: procCgroup{v2: "/"}, root: "cairn",
			want: map[string]string{"": "/sys/fs/cgroup/cairn/c1"},
		},
		{
			name: "v2, absolute root",
			mode: modeUnified, own: procCgroup{v2: "/system.slice/cairn-agent.service"}, root: "/cairn.slice/x",
			want: map[string]string{"": "/sys/fs/cgroup/cairn.slice/x/c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cgroupDirs(tt.mode, tt.mnts, tt.own, tt.root, "c1")
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("cgroupDirs =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}

	_, err := cgroupDirs(modeLegacy,
		[]cgroupMount{{Mountpoint: "/sys/fs/cgroup/memory", Root: "/docker/abc", Controllers: []string{"memory"}}},
		procCgroup{v1: map[string]string{"memory": "/docker/abcdef"}}, "cairn", "c1")
	if err == nil {
		t.Error("own cgroup outside the mounted part accepted")
	}
}

func TestCleanCgroupsRoot(t *testing.T) {
	for in, want := range map[string]string{"cairn": "cairn", "/cairn/": "/cairn", "a//b": "a/b"} {
		if got, err := cleanCgroupsRoot(in); err != nil || got != want {
			t.Errorf("cleanCgroupsRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "../x", "a/../../b"} {
		if _, err := cleanCgroupsRoot(bad); err == nil {
			t.Errorf("cleanCgroupsRoot(%q) accepted", bad)
		}
	}
}
