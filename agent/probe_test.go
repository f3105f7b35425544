package agent

import (
	"errors"
	"strings"
	"testing"
)

const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`

const v2Mountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate`

func TestCheckCgroups(t *testing.T) {
	tests := []struct {
		name, mountinfo, controllers, missing string
	}{
		{"hybrid host", hybridMountinfo, "", ""},
		{"v1 without pids", strings.Replace(hybridMountinfo, "rw,pids", "rw,freezer", 1), "", `"pids"`},
		{"v1 combined cpu,cpuacct", "1 2 0:1 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n3 2 0:2 / /m rw - cgroup cgroup rw,memory\n4 2 0:3 / /p rw - cgroup cgroup rw,pids", "", ""},
		{"v2 host", v2Mountinfo, "cpuset cpu io memory pids", ""},
		{"v2 without memory", v2Mountinfo, "cpuset cpu io pids", `"memory"`},
		{"no cgroups", "22 1 0:5 / /proc rw - proc proc rw", "", "no cgroup filesystem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkCgroups(tc.mountinfo, func(string) (string, error) { return tc.controllers, nil })
			if tc.missing == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrKernelFeature) || !strings.Contains(err.Error(), tc.missing) {
				t.Fatalf("error %v, want one naming %s", err, tc.missing)
			}
		})
	}
}
