// Package systemd tests Cairn's systemd integration from the outside: the
// unit files in deploy/systemd (their settings, and `systemd-analyze verify`
// with no output at all, warnings included), deploy/install.sh, and a real
// systemd booted as PID 1 of a throw-away container that runs cairn-master
// and cairn-agent as Type=notify services, and whose agent runs tasks in
// transient scopes under its systemd cgroups driver (scope_linux_test.go).
//
// The container (boot_linux_test.go) is a new pid, mount, cgroup, network,
// uts and ipc namespace whose root is a tmpfs: read-only /usr from the host, an overlay
// on the host's /etc, proc, read-only sysfs, the host's cgroup hierarchies as
// seen from a cgroup made for the test (hybrid: v1 controllers plus cgroup2
// at /sys/fs/cgroup/unified, the layout this host has), tmpfs /dev, /run and
// /tmp. The test drives it from outside with `nsenter … systemctl`.
//
// I/O: runs systemd-analyze, sh, unshare, nsenter and the cairn binary; the
// boot test creates one cgroup per hierarchy and a directory under /tmp, all
// removed in t.Cleanup. Tests run sequentially in the test goroutine.
package systemd
