package bpf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestUnifiedRoot(t *testing.T) {
	const (
		hybrid = `25 1 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
26 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
27 25 0:25 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
		pure = `30 1 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate
`
		// A container's view: a bind of a sub-cgroup comes first, the
		// real root later, at an escaped path.
		odd = `40 1 0:26 /kubepods /mnt/sub rw - cgroup2 cgroup2 rw
41 1 0:26 / /mnt/my\040cgroups rw - cgroup2 cgroup2 rw
`
	)
	for _, c := range []struct {
		name, mountinfo, want string
	}{
		{"hybrid", hybrid, "/sys/fs/cgroup/unified"},
		{"pure v2", pure, "/sys/fs/cgroup"},
		{"escaped, sub-cgroup bind skipped", odd, "/mnt/my cgroups"},
	} {
		got, err := unifiedRoot(strings.NewReader(c.mountinfo))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if got, err := unifiedRoot(strings.NewReader("26 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")); err == nil {
		t.Errorf("v1 only: got %q, want an error", got)
	}
}

func TestUnifiedPath(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"12:memory:/a\n1:name=systemd:/b\n0::/c/d\n", "/c/d", true},
		{"0::/\n", "/", true},
		{"4:cpu:/x\n", "", false},
	} {
		got, err := unifiedPath([]byte(c.in))
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestMissingError(t *testing.T) {
	err := fmt.Errorf("open cpu meter: %w", &MissingError{Feature: TracingPrograms, Err: unix.EPERM})
	if !errors.Is(err, ErrNotSupported) || !errors.Is(err, ebpf.ErrNotSupported) || !errors.Is(err, unix.EPERM) {
		t.Errorf("%v does not match ErrNotSupported and EPERM", err)
	}
	if f, ok := IsMissing(err); !ok || f != TracingPrograms {
		t.Errorf("IsMissing = %q, %v", f, ok)
	}
	if !strings.Contains(err.Error(), string(TracingPrograms)) {
		t.Errorf("%q does not name the feature", err)
	}
	if _, ok := IsMissing(errors.New("disk full")); ok {
		t.Error("an unrelated error counts as missing")
	}
}
