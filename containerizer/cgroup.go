package containerizer

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// cgroupMode is the cgroup layout of a host. libcontainer picks its driver
// from the same probe (cgroups.IsCgroup2UnifiedMode): fs for legacy and
// hybrid, fs2 for unified.
type cgroupMode int

const (
	modeLegacy  cgroupMode = iota + 1 // v1 hierarchies only
	modeHybrid                        // v1 controllers, plus cgroup2 at /sys/fs/cgroup/unified
	modeUnified                       // pure cgroup v2 at /sys/fs/cgroup
)

func (m cgroupMode) String() string {
	switch m {
	case modeLegacy:
		return "v1"
	case modeHybrid:
		return "hybrid"
	case modeUnified:
		return "v2"
	}
	return fmt.Sprintf("cgroupMode(%d)", int(m))
}

// driver names the libcontainer cgroup manager that serves the mode.
func (m cgroupMode) driver() string {
	if m == modeUnified {
		return "fs2"
	}
	return "fs"
}

// Filesystem magic numbers from statfs(2).
const (
	cgroup2Magic = 0x63677270
	tmpfsMagic   = 0x01021994
)

const (
	cgroupMountpoint = "/sys/fs/cgroup"
	hybridMountpoint = "/sys/fs/cgroup/unified"
)

// detectMode classifies a host from the statfs types of /sys/fs/cgroup and
// /sys/fs/cgroup/unified (0 when it does not exist).
func detectMode(rootType, unifiedType int64) (cgroupMode, error) {
	switch {
	case rootType == cgroup2Magic:
		return modeUnified, nil
	case rootType == tmpfsMagic && unifiedType == cgroup2Magic:
		return modeHybrid, nil
	case rootType == tmpfsMagic:
		return modeLegacy, nil
	}
	return 0, fmt.Errorf("no cgroup filesystem at %s (statfs type %#x)", cgroupMountpoint, rootType)
}

// requiredControllers are the controllers a container's limits, usage and
// clean kill depend on. On v2, devices and freezer are built in.
func requiredControllers(m cgroupMode) []string {
	if m == modeUnified {
		return []string{"cpu", "memory", "pids"}
	}
	return []string{"cpu", "cpuacct", "memory", "pids", "devices", "freezer"}
}

// missingControllers returns the required controllers not in available.
func missingControllers(m cgroupMode, available []string) []string {
	var missing []string
	for _, c := range requiredControllers(m) {
		if !slices.Contains(available, c) {
			missing = append(missing, c)
		}
	}
	return missing
}

// procCgroup is a parsed /proc/<pid>/cgroup: the v1 path per controller (or
// "name=…" hierarchy) and the v2 path.
type procCgroup struct {
	v1 map[string]string
	v2 string
}

func parseProcCgroup(data string) (procCgroup, error) {
	pc := procCgroup{v1: map[string]string{}}
	for line := range strings.Lines(data) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			return procCgroup{}, fmt.Errorf("parse cgroup line %q", line)
		}
		if parts[0] == "0" && parts[1] == "" {
			pc.v2 = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			pc.v1[c] = parts[2]
		}
	}
	return pc, nil
}

// cgroupMount is a v1 hierarchy: where it is mounted, which part of the
// hierarchy the mount shows (not "/" inside another container), and its
// controllers.
type cgroupMount struct {
	Mountpoint  string
	Root        string
	Controllers []string
}

// cleanCgroupsRoot checks the --cgroups_root value: absolute roots hang from
// the top of each hierarchy, relative ones below the agent's own cgroup.
func cleanCgroupsRoot(root string) (string, error) {
	if root == "" {
		return "", errors.New("empty cgroups root")
	}
	if slices.Contains(strings.Split(root, "/"), "..") {
		return "", fmt.Errorf("cgroups root %q climbs with ..", root)
	}
	return path.Clean(root), nil
}

// cgroupDirs returns the directories of container id's cgroups, keyed as
// libcontainer keys them (controller name for v1, "" for the v2 cgroup),
// resolved the way libcontainer resolves them:
//   - v1: a relative root is below the agent's own cgroup in each hierarchy;
//   - hybrid: also a v2 cgroup at /sys/fs/cgroup/unified/<root>/<id>;
//   - v2: a relative root is below the parent of the agent's cgroup, because
//     a v2 cgroup that holds processes (the agent's) cannot hand controllers
//     to children.
func cgroupDirs(m cgroupMode, mounts []cgroupMount, own procCgroup, root, id string) (map[string]string, error) {
	inner := path.Join(root, id)
	dirs := map[string]string{}
	if m == modeUnified {
		base := "/"
		if !path.IsAbs(root) {
			base = path.Dir(own.v2)
		}
		dirs[""] = path.Join(cgroupMountpoint, base, inner)
		return dirs, nil
	}
	for _, mt := range mounts {
		for _, c := range mt.Controllers {
			if path.IsAbs(root) {
				dirs[c] = path.Join(mt.Mountpoint, inner)
				continue
			}
			ownPath, ok := own.v1[c]
			if !ok {
				return nil, fmt.Errorf("agent is in no %s cgroup", c)
			}
			if mt.Root != "/" && ownPath != mt.Root && !strings.HasPrefix(ownPath, mt.Root+"/") {
				return nil, fmt.Errorf("agent's %s cgroup %s is outside the mounted part %s", c, ownPath, mt.Root)
			}
			rel := strings.TrimPrefix(ownPath, mt.Root)
			dirs[c] = path.Join(mt.Mountpoint, rel, inner)
		}
	}
	if m == modeHybrid {
		dirs[""] = path.Join(hybridMountpoint, inner)
	}
	return dirs, nil
}
