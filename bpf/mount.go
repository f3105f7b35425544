package bpf

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Where the agent expects the filesystems it may have to mount.
const (
	BPFFSPath   = "/sys/fs/bpf"
	TracefsPath = "/sys/kernel/tracing"
)

// Filesystem magic numbers (statfs f_type) from include/uapi/linux/magic.h.
const (
	bpffsMagic   = 0xcafe4a11
	tracefsMagic = 0x74726163
	cgroup2Magic = 0x63677270
)

// MountBPFFS mounts a bpffs at path unless one is mounted there already,
// creating the directory if needed. bpffs holds pinned maps and links.
func MountBPFFS(path string) error {
	return ensureMount("bpf", path, bpffsMagic)
}

// MountTracefs mounts tracefs at path unless it is mounted there already.
// Cairn's meters attach through BTF and need no tracefs; it is for operators
// and tools (bpftool, perf) that look for it at the usual place.
func MountTracefs(path string) error {
	return ensureMount("tracefs", path, tracefsMagic)
}

// EnsureMounts mounts bpffs and tracefs at their usual places when missing.
func EnsureMounts() error {
	return errors.Join(MountBPFFS(BPFFSPath), MountTracefs(TracefsPath))
}

// Mounted reports whether a filesystem of type fstype (bpf, tracefs,
// cgroup2) is mounted at path.
func Mounted(fstype, path string) (bool, error) {
	magic, ok := map[string]int64{"bpf": bpffsMagic, "tracefs": tracefsMagic, "cgroup2": cgroup2Magic}[fstype]
	if !ok {
		return false, fmt.Errorf("check mount: unknown filesystem %q", fstype)
	}
	return hasMagic(path, magic)
}

func hasMagic(path string, magic int64) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Type) == magic, nil
}

func ensureMount(fstype, path string, magic int64) error {
	ok, err := hasMagic(path, magic)
	if err != nil || ok {
		return err
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("mount %s: %w", fstype, err)
	}
	if err := unix.Mount(fstype, path, fstype, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0700"); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return &MissingError{Feature: Feature(fstype + " filesystem"), Err: err}
		}
		return fmt.Errorf("mount %s at %s: %w", fstype, path, err)
	}
	return nil
}
