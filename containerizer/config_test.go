//go:build linux

package containerizer

import (
	"slices"
	"syscall"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/isolators"
)

func TestBuildConfig(t *testing.T) {
	spec := &Spec{
		ID: "c1", Sandbox: "/work/sb", Args: []string{"/bin/true"}, Hostname: "task-1",
		Binds: []Bind{
			{Source: "/usr/local/bin/cairn", Target: "/.cairn/cairn"},
			{Source: "/data", Target: "/data", Writable: true},
		},
		Limits: isolators.Limits{CPUShares: 512, CPUQuotaUs: 50000, CPUPeriodUs: 100000, MemoryBytes: 64 << 20, MemorySwapBytes: 64 << 20, PidsMax: 100},
	}
	cfg := buildConfig(spec, launchConfig{rootfs: "/state/.rootfs/c1", cgroupSpec: cgroups.Cgroup{Path: "cairn/c1"}, hostDirs: []string{"/bin", "/usr", "/etc"}, swapLimit: true})

	if cfg.Rootfs != "/state/.rootfs/c1" || !cfg.Readonlyfs || cfg.Hostname != "task-1" {
		t.Errorf("rootfs %q readonly %v hostname %q", cfg.Rootfs, cfg.Readonlyfs, cfg.Hostname)
	}
	var dests []string
	mounts := map[string]*configs.Mount{}
	for _, m := range cfg.Mounts {
		dests = append(dests, m.Destination)
		mounts[m.Destination] = m
	}
	wantOrder := []string{"/bin", "/usr", "/etc", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/tmp", SandboxMount, "/.cairn/cairn", "/data"}
	if !slices.Equal(dests, wantOrder) {
		t.Errorf("mount order %v, want %v", dests, wantOrder)
	}
	ro := func(d string) bool { return mounts[d].Flags&unix.MS_RDONLY != 0 }
	for _, d := range []string{"/bin", "/usr", "/etc", "/sys", "/.cairn/cairn"} {
		if !ro(d) {
			t.Errorf("%s is writable", d)
		}
	}
	for _, d := range []string{SandboxMount, "/data", "/tmp"} {
		if ro(d) {
			t.Errorf("%s is read-only", d)
		}
	}
	if m := mounts[SandboxMount]; m.Source != "/work/sb" || m.Flags&unix.MS_BIND == 0 {
		t.Errorf("sandbox mount %+v", m)
	}
	if mounts["/usr"].Source != "/usr" || mounts["/usr"].Flags&unix.MS_BIND == 0 {
		t.Errorf("/usr mount %+v", mounts["/usr"])
	}

	for _, ns := range []configs.NamespaceType{configs.NEWNS, configs.NEWPID, configs.NEWIPC, configs.NEWUTS} {
		if !cfg.Namespaces.Contains(ns) {
			t.Errorf("no %s namespace", ns)
		}
	}
	if cfg.Namespaces.Contains(configs.NEWNET) {
		t.Error("own network namespace without NetNS")
	}
	spec.NetNS = "/run/netns/x"
	if p := buildConfig(spec, launchConfig{}).Namespaces.PathOf(configs.NEWNET); p != "/run/netns/x" {
		t.Errorf("netns path %q", p)
	}

	if cfg.Cgroups.Path != "cairn/c1" {
		t.Errorf("cgroup path %q", cfg.Cgroups.Path)
	}
	if slices.Contains(cfg.Capabilities.Bounding, "CAP_SYS_ADMIN") || !slices.Contains(cfg.Capabilities.Bounding, "CAP_SETUID") {
		t.Errorf("capabilities %v", cfg.Capabilities.Bounding)
	}
	var paths []string
	for _, d := range cfg.Devices {
		paths = append(paths, d.Path)
	}
	if !slices.Equal(paths, []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
		t.Errorf("device nodes %v", paths)
	}
}

func TestCgroupResources(t *testing.T) {
	l := isolators.Limits{CPUShares: 512, CPUQuotaUs: 50000, CPUPeriodUs: 100000, MemoryBytes: 64 << 20, MemorySwapBytes: 64 << 20, PidsMax: 100}
	r := cgroupResources(l, true)
	if r.CpuShares != 512 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || r.Memory != 64<<20 || r.MemorySwap != 64<<20 {
		t.Errorf("resources %+v", r)
	}
	if r.PidsLimit == nil || *r.PidsLimit != 100 {
		t.Errorf("pids limit %v", r.PidsLimit)
	}
	// v2 managers take the weight only (libcontainer's conversion; it
	// changed between versions): set, in range, and ordered as the shares.
	if r.CpuWeight == 0 || r.CpuWeight > 10000 {
		t.Errorf("cpu weight %d for 512 shares", r.CpuWeight)
	}
	if w := cgroupResources(isolators.Limits{CPUShares: 1024}, true).CpuWeight; w <= r.CpuWeight {
		t.Errorf("cpu weight %d for 1024 shares, not above %d for 512", w, r.CpuWeight)
	}
	if r := cgroupResources(isolators.Limits{}, true); r.CpuWeight != 0 {
		t.Errorf("cpu weight %d without shares, want 0 (unset)", r.CpuWeight)
	}
	// Default deny: every rule is an allow rule for a char device, and none
	// is a wildcard for all majors.
	for _, rule := range r.Devices {
		if !rule.Allow || rule.Major < 0 {
			t.Errorf("device rule %+v", rule)
		}
	}
	if r := cgroupResources(l, false); r.MemorySwap != 0 || r.Memory != 64<<20 {
		t.Errorf("without swap accounting: memory %d swap %d", r.Memory, r.MemorySwap)
	}
	if r := cgroupResources(isolators.Limits{}, true); r.PidsLimit != nil || r.Memory != 0 || r.CpuQuota != 0 {
		t.Errorf("zero limits set something: %+v", r)
	}
}

func TestExitFromStatus(t *testing.T) {
	// Wait status encoding: exit code in bits 8-15; signal in bits 0-6.
	if e := exitFromStatus(syscall.WaitStatus(3 << 8)); e != (Exit{Code: 3}) {
		t.Errorf("exit 3: %+v", e)
	}
	if e := exitFromStatus(syscall.WaitStatus(syscall.SIGKILL)); e != (Exit{Code: 137, Signal: syscall.SIGKILL}) {
		t.Errorf("SIGKILL: %+v", e)
	}
}

func TestUsageFromStats(t *testing.T) {
	st := cgroups.NewStats()
	st.CpuStats.CpuUsage = cgroups.CpuUsage{TotalUsage: 3e9, UsageInUsermode: 2e9, UsageInKernelmode: 1e9}
	st.CpuStats.ThrottlingData = cgroups.ThrottlingData{Periods: 30, ThrottledPeriods: 12, ThrottledTime: 5e8}
	st.MemoryStats.Usage = cgroups.MemoryData{Usage: 100, MaxUsage: 200, Limit: 0x7FFFFFFFFFFFF000}
	st.MemoryStats.Stats = map[string]uint64{"total_rss": 10, "rss": 1, "total_cache": 20, "total_mapped_file": 5, "total_swap": 0,
		"anon": 11, "file": 21, "file_mapped": 6}
	st.MemoryStats.SwapOnlyUsage.Usage = 7
	st.PidsStats.Current = 9

	u := usageFromStats(st, false)
	want := Usage{CPUUserSeconds: 2, CPUSystemSeconds: 1, CPUUsageNanos: 3e9, CPUPeriods: 30, CPUThrottled: 12, CPUThrottledSeconds: 0.5,
		MemTotalBytes: 100, MemMaxUsageBytes: 200, MemRSSBytes: 10, MemFileBytes: 20, MemMappedFileBytes: 5, Threads: 9}
	if u != want {
		t.Errorf("v1:\n got %+v\nwant %+v", u, want)
	}
	st.MemoryStats.Usage.Limit = 64 << 20
	u = usageFromStats(st, true)
	if u.MemRSSBytes != 11 || u.MemFileBytes != 21 || u.MemMappedFileBytes != 6 || u.MemSwapBytes != 7 || u.MemLimitBytes != 64<<20 {
		t.Errorf("v2: %+v", u)
	}
}
