package containerizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// rootfsDir holds the containers' root directories inside the state
// directory. Its name starts with a dot, which ValidateID refuses, so it can
// never be taken for a container's libcontainer state.
const rootfsDir = ".rootfs"

// existingHostDirs filters hostDirs to those present on this host.
func existingHostDirs() []string {
	var out []string
	for _, d := range hostDirs {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// makeRootfs creates an empty root directory for a container. libcontainer
// mounts everything onto it inside the container's own mount namespace, so on
// the host it only ever holds empty mount points.
func makeRootfs(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("create rootfs parent: %w", err)
	}
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, os.ErrExist) {
		// Left over by a crash: start from nothing.
		if err := removeRootfs(dir); err != nil {
			return err
		}
		err = os.Mkdir(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("create rootfs: %w", err)
	}
	return nil
}

// removeRootfs deletes a container's root directory. Mounts never propagate
// out of a container (its root is a slave mount), but should one be visible
// here anyway, RemoveAll would descend into it and delete host files (a bind
// of /usr…), so any mount below dir is detached first.
func removeRootfs(dir string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return fmt.Errorf("list mounts below rootfs: %w", err)
	}
	// Deepest first, so parents are not busy.
	slices.SortFunc(mounts, func(a, b *mountinfo.Info) int { return len(b.Mountpoint) - len(a.Mountpoint) })
	for _, m := range mounts {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s below rootfs: %w", m.Mountpoint, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove rootfs: %w", err)
	}
	return nil
}
