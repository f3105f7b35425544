package containerizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// hostCgroups is what New learns about the host's cgroups, once.
type hostCgroups struct {
	mode   cgroupMode
	mounts []cgroupMount // v1 hierarchies (legacy and hybrid)
	own    procCgroup    // the agent's own cgroups
	// driver makes the containers' cgroups; driverWhy says why it was
	// chosen, for the log.
	driver    cgroupDriver
	driverWhy string
	// swapLimit reports that the memory controller can limit swap (v1
	// memory.memsw.*; v2 always, as libcontainer skips a missing
	// memory.swap.max when no swap is allowed).
	swapLimit bool
}

// probeCgroups learns the host's cgroup layout and settles the driver
// (Config.CgroupsDriver) for it.
func probeCgroups(driver string) (hostCgroups, error) {
	var h hostCgroups
	var root, unified unix.Statfs_t
	if err := unix.Statfs(cgroupMountpoint, &root); err != nil {
		return h, fmt.Errorf("statfs %s: %w", cgroupMountpoint, err)
	}
	if err := unix.Statfs(hybridMountpoint, &unified); err != nil && !errors.Is(err, unix.ENOENT) {
		return h, fmt.Errorf("statfs %s: %w", hybridMountpoint, err)
	}
	mode, err := detectMode(root.Type, unified.Type)
	if err != nil {
		return h, err
	}
	if (mode == modeUnified) != cgroups.IsCgroup2UnifiedMode() {
		return h, fmt.Errorf("cgroup mode %s disagrees with libcontainer's probe", mode)
	}
	h.mode = mode

	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return h, fmt.Errorf("read own cgroup: %w", err)
	}
	if h.own, err = parseProcCgroup(string(self)); err != nil {
		return h, err
	}

	var available []string
	if mode == modeUnified {
		b, err := os.ReadFile(filepath.Join(cgroupMountpoint, "cgroup.controllers"))
		if err != nil {
			return h, fmt.Errorf("read cgroup v2 controllers: %w", err)
		}
		available = strings.Fields(string(b))
		h.swapLimit = true
	} else {
		mounts, err := cgroups.GetCgroupMounts(false)
		if err != nil {
			return h, fmt.Errorf("find cgroup v1 mounts: %w", err)
		}
		for _, m := range mounts {
			var names []string
			for _, c := range m.Subsystems {
				// Named hierarchies come back without their "name="
				// prefix; libcontainer and /proc keep it.
				if _, ok := h.own.v1["name="+c]; ok {
					c = "name=" + c
				}
				names = append(names, c)
				if c == "memory" {
					_, err := os.Stat(filepath.Join(m.Mountpoint, "memory.memsw.limit_in_bytes"))
					h.swapLimit = err == nil
				}
			}
			h.mounts = append(h.mounts, cgroupMount{Mountpoint: m.Mountpoint, Root: m.Root, Controllers: names})
			available = append(available, names...)
		}
	}
	if missing := missingControllers(mode, available); len(missing) > 0 {
		return h, fmt.Errorf("cgroup %s controllers not available: %s (mount them, or on v2 enable them in the root's cgroup.subtree_control)", mode, strings.Join(missing, ", "))
	}
	var systemdErr error
	if needSystemd(driver, mode) {
		systemdErr = probeSystemd()
	}
	h.driver, h.driverWhy, err = chooseDriver(driver, mode, systemdErr)
	return h, err
}

// dirs returns the directories of a container's cgroups (see cgroupDirs and
// systemdDirs; root is not used by the systemd driver).
func (h hostCgroups) dirs(root, id string) (map[string]string, error) {
	if h.driver == driverSystemd {
		return systemdDirs(h.mode, h.mounts, id), nil
	}
	return cgroupDirs(h.mode, h.mounts, h.own, root, id)
}

// driverName names the libcontainer cgroup manager in use, for the log.
func (h hostCgroups) driverName() string {
	if h.driver == driverSystemd {
		return "systemd"
	}
	return h.mode.driver()
}
