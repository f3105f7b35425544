package containerizer

import (
	"fmt"
	"path"
	"strings"
)

// Values of Config.CgroupsDriver (agent flag --cgroups_driver).
const (
	// DriverAuto picks DriverSystemd where systemd is the init system and
	// the host is pure cgroup v2, DriverCgroupfs everywhere else.
	DriverAuto = "auto"
	// DriverCgroupfs makes the containers' cgroups by hand, below
	// --cgroups_root (libcontainer's fs and fs2 managers).
	DriverCgroupfs = "cgroupfs"
	// DriverSystemd asks systemd for one transient scope per container,
	// cairn-<container id>.scope in cairn.slice (libcontainer's systemd
	// manager). --cgroups_root is not used then.
	DriverSystemd = "systemd"
)

// The systemd driver's names: every container's scope is
// <scopePrefix>-<id>.scope in systemdSlice. The slice is the one the units in
// deploy/systemd run the daemons in, so one set-property caps both.
const (
	systemdSlice = "cairn.slice"
	scopePrefix  = "cairn"
)

// cgroupDriver is the driver New settled on.
type cgroupDriver int

const (
	driverCgroupfs cgroupDriver = iota
	driverSystemd
)

func (d cgroupDriver) String() string {
	if d == driverSystemd {
		return DriverSystemd
	}
	return DriverCgroupfs
}

// needSystemd reports whether chooseDriver's answer depends on systemd,
// so that New only talks to it then (a D-Bus round trip, seconds at worst).
func needSystemd(requested string, mode cgroupMode) bool {
	switch requested {
	case DriverSystemd:
		return true
	case "", DriverAuto:
		return mode == modeUnified
	}
	return false
}

// chooseDriver settles --cgroups_driver. systemdErr is nil when systemd is
// the init system and answers on D-Bus, or says why not. auto prefers
// systemd only on pure v2: there a container cgroup outside any unit is in
// systemd's way, while on v1 and hybrid hosts cgroupfs below the agent's
// delegated cgroup is what has always worked. An explicit systemd works on
// any layout systemd runs on, and fails when systemd does not answer.
func chooseDriver(requested string, mode cgroupMode, systemdErr error) (cgroupDriver, string, error) {
	switch requested {
	case "", DriverAuto:
		switch {
		case mode != modeUnified:
			return driverCgroupfs, "cgroup " + mode.String() + " host", nil
		case systemdErr != nil:
			return driverCgroupfs, "systemd unavailable: " + systemdErr.Error(), nil
		}
		return driverSystemd, "systemd is init and cgroup v2 is unified", nil
	case DriverCgroupfs:
		return driverCgroupfs, "requested", nil
	case DriverSystemd:
		if systemdErr != nil {
			return 0, "", fmt.Errorf("cgroups driver systemd requested, but systemd is unavailable: %w", systemdErr)
		}
		return driverSystemd, "requested", nil
	}
	return 0, "", fmt.Errorf("unknown cgroups driver %q (want %s, %s or %s)", requested, DriverAuto, DriverCgroupfs, DriverSystemd)
}

// ScopeName is the transient unit the systemd driver runs container id in.
func ScopeName(id string) string { return scopePrefix + "-" + id + ".scope" }

// slicePath expands a slice name into its cgroup path, as systemd nests
// slices: a-b.slice is /a.slice/a-b.slice.
func slicePath(slice string) string {
	name := strings.TrimSuffix(slice, ".slice")
	p := "/"
	for i := range len(name) {
		if name[i] == '-' {
			p = path.Join(p, name[:i]+".slice")
		}
	}
	return path.Join(p, slice)
}

// systemdDirs is cgroupDirs for the systemd driver: the scope's cgroup in
// every hierarchy, from the top of each mount, as libcontainer's systemd
// manager finds them. With id "" it returns the slice's directories.
func systemdDirs(m cgroupMode, mounts []cgroupMount, id string) map[string]string {
	inner := slicePath(systemdSlice)
	if id != "" {
		inner = path.Join(inner, ScopeName(id))
	}
	dirs := map[string]string{}
	switch m {
	case modeUnified:
		dirs[""] = path.Join(cgroupMountpoint, inner)
		return dirs
	case modeHybrid:
		dirs[""] = path.Join(hybridMountpoint, inner)
	}
	for _, mt := range mounts {
		for _, c := range mt.Controllers {
			dirs[c] = path.Join(mt.Mountpoint, inner)
		}
	}
	return dirs
}
