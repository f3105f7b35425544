package containerizer

import (
	"path"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/isolators"
)

// hostDirs are bound read-only into every container. On merged-/usr hosts
// some are symlinks; binding them gives the same view.
var hostDirs = []string{"/bin", "/sbin", "/usr", "/lib", "/lib64", "/etc"}

// capabilities is the bounding, effective and permitted set of a
// container's root: enough to run and supervise tasks (switch users, bind low
// ports, chown files), not enough to manage the host (no CAP_SYS_ADMIN,
// CAP_NET_ADMIN, CAP_SYS_MODULE…), since containers share the host network.
var capabilities = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

// maskedPaths hide host information /proc and /sys would leak;
// readonlyPaths keep a root process from tuning the host kernel.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// charDevice is a device node created in the container's /dev and allowed
// by its device cgroup.
func charDevice(p string, major, minor int64) *devices.Device {
	return &devices.Device{
		Path:     p,
		FileMode: 0o666,
		Rule:     devices.Rule{Type: devices.CharDevice, Major: major, Minor: minor, Permissions: "rwm", Allow: true},
	}
}

// nodes are the device nodes every container gets.
var nodes = []*devices.Device{
	charDevice("/dev/null", 1, 3),
	charDevice("/dev/zero", 1, 5),
	charDevice("/dev/full", 1, 7),
	charDevice("/dev/random", 1, 8),
	charDevice("/dev/urandom", 1, 9),
	charDevice("/dev/tty", 5, 0),
}

// deviceRules is the device cgroup allow-list: the nodes, plus the
// container's own pseudo-terminals (/dev/ptmx and /dev/pts/*). Everything
// else is denied.
func deviceRules() []*devices.Rule {
	var rules []*devices.Rule
	for _, n := range nodes {
		rules = append(rules, &n.Rule)
	}
	return append(rules,
		&devices.Rule{Type: devices.CharDevice, Major: 5, Minor: 2, Permissions: "rwm", Allow: true},
		&devices.Rule{Type: devices.CharDevice, Major: 136, Minor: devices.Wildcard, Permissions: "rwm", Allow: true},
	)
}

// launchConfig is what buildConfig needs besides the Spec.
type launchConfig struct {
	rootfs     string         // an empty directory, the container's /
	cgroupSpec cgroups.Cgroup // where the cgroups go (hostCgroups.placement)
	hostDirs   []string       // the hostDirs that exist on this host
	swapLimit  bool           // the memory controller can limit swap
}

// buildConfig turns a Spec into libcontainer's configuration. It is pure.
func buildConfig(s *Spec, lc launchConfig) *configs.Config {
	const (
		noexec = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
		bind   = unix.MS_BIND | unix.MS_REC
	)
	var mounts []*configs.Mount
	for _, d := range lc.hostDirs {
		mounts = append(mounts, &configs.Mount{Source: d, Destination: d, Device: "bind", Flags: bind | unix.MS_RDONLY})
	}
	mounts = append(mounts,
		&configs.Mount{Source: "proc", Destination: "/proc", Device: "proc", Flags: noexec},
		&configs.Mount{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		&configs.Mount{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
		&configs.Mount{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: noexec, Data: "mode=1777,size=65536k"},
		&configs.Mount{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: noexec | unix.MS_RDONLY},
		// tmpfs pages are charged to the writer's memory cgroup, so /tmp
		// needs no size of its own.
		&configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV, Data: "mode=1777"},
		&configs.Mount{Source: s.Sandbox, Destination: SandboxMount, Device: "bind", Flags: bind},
	)
	for _, b := range s.Binds {
		flags := bind
		if !b.Writable {
			flags |= unix.MS_RDONLY
		}
		mounts = append(mounts, &configs.Mount{Source: b.Source, Destination: path.Clean(b.Target), Device: "bind", Flags: flags})
	}

	ns := configs.Namespaces{
		{Type: configs.NEWNS}, {Type: configs.NEWPID}, {Type: configs.NEWIPC}, {Type: configs.NEWUTS},
	}
	if s.NetNS != "" {
		ns = append(ns, configs.Namespace{Type: configs.NEWNET, Path: s.NetNS})
	}
	caps := &configs.Capabilities{Bounding: capabilities, Effective: capabilities, Permitted: capabilities}

	return &configs.Config{
		Rootfs:        lc.rootfs,
		Readonlyfs:    true,
		Mounts:        mounts,
		Devices:       nodes,
		Hostname:      s.Hostname,
		Namespaces:    ns,
		Capabilities:  caps,
		MaskPaths:     maskedPaths,
		ReadonlyPaths: readonlyPaths,
		Cgroups:       cgroupsOf(lc.cgroupSpec, cgroupResources(s.Limits, lc.swapLimit)),
	}
}

// cgroupsOf returns a copy of placement with the resources set.
func cgroupsOf(placement cgroups.Cgroup, r *cgroups.Resources) *cgroups.Cgroup {
	placement.Resources = r
	return &placement
}

// cgroupResources maps Limits onto libcontainer's resources. The v1
// managers read CpuShares, the v2 ones (fs2, systemd) CpuWeight, which they
// do not derive themselves; memsw becomes swap.max inside fs2.
func cgroupResources(l isolators.Limits, swapLimit bool) *cgroups.Resources {
	r := &cgroups.Resources{
		Devices:    deviceRules(),
		CpuShares:  l.CPUShares,
		CpuWeight:  cgroups.ConvertCPUSharesToCgroupV2Value(l.CPUShares),
		CpuQuota:   l.CPUQuotaUs,
		CpuPeriod:  l.CPUPeriodUs,
		Memory:     l.MemoryBytes,
		MemorySwap: l.MemorySwapBytes,
		// Mesos's cgroups/mem sets the soft limit to the container's
		// memory too (mem_soft_limit_bytes reports it): on v1 reclaim under
		// host pressure pushes containers above it first, on v2 it is
		// memory.low, protection up to what the container asked for.
		MemoryReservation: l.MemoryBytes,
	}
	if !swapLimit {
		// Without swap accounting the memsw file is missing and writing
		// it fails; the memory limit alone still holds.
		r.MemorySwap = 0
	}
	if l.PidsMax > 0 {
		p := l.PidsMax
		r.PidsLimit = &p
	}
	return r
}
