package containerizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/cairnhq/cairn/ids"
)

// Close removes the --cgroups_root directories the containers hung from, in
// every hierarchy, once they are empty: libcontainer removes each container's
// own cgroups but not the parent it was given. A root that still holds
// containers (e.g. left running for a later agent) is kept, not an error.
// Close does not touch running containers; it is idempotent. Under the
// systemd driver there is no root: see closeSystemd.
func (l *Linux) Close() error {
	if l.host.driver == driverSystemd {
		return l.closeSystemd()
	}
	dirs, err := l.host.dirs(l.cgroupsRoot, "")
	if err != nil {
		return fmt.Errorf("cgroups root directories: %w", err)
	}
	var errs []error
	for _, d := range dirs {
		err := os.Remove(d)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
		case errors.Is(err, syscall.EBUSY), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
			l.log.Debug("cgroups root still in use, kept", "dir", d)
		default:
			errs = append(errs, fmt.Errorf("remove cgroups root %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// closeSystemd is Close for the systemd driver. systemd removes each scope
// when it stops, and cairn.slice is its unit (the agent's own, often). Left
// are the slice's directories that libcontainer made to put the containers
// in v1 hierarchies systemd does not manage (freezer, cpuset, and any that
// systemd cannot use as mounted). Those are the hierarchies where systemd
// has not even placed the agent: its cgroup there is the root. Directories
// systemd made are never removed, since they hold the slice's settings.
func (l *Linux) closeSystemd() error {
	var errs []error
	for _, mt := range l.host.mounts {
		if !slices.ContainsFunc(mt.Controllers, func(c string) bool { return l.host.own.v1[c] == "/" }) {
			continue
		}
		d := filepath.Join(mt.Mountpoint, slicePath(systemdSlice))
		err := os.Remove(d)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
		case errors.Is(err, syscall.EBUSY), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
			l.log.Debug("cgroups slice still in use, kept", "dir", d)
		default:
			errs = append(errs, fmt.Errorf("remove cgroups slice %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// forceEmpty reclaims the page cache a v1 memory cgroup is still charged
// for before the cgroup is removed. Without it the removed cgroup lingers as
// a "dying" memory cgroup until memory pressure evicts those pages; thousands
// pile up on a busy agent (seen: 5,482 after a few benchmark runs) and make
// every later cgroup creation slower. v2 reparents the charges instead, so
// there is nothing to do there. Best effort: failure only delays the reclaim.
func (l *Linux) forceEmpty(id ids.ContainerID) {
	dirs, err := l.host.dirs(l.cgroupsRoot, string(id))
	if err != nil {
		return
	}
	if d, ok := dirs["memory"]; ok {
		if err := os.WriteFile(filepath.Join(d, "memory.force_empty"), []byte("0"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			l.log.Debug("force_empty memory cgroup", "container_id", string(id), "err", err)
		}
	}
}
