#!/bin/sh
# Boot systemd as PID 1 of new pid, mount, cgroup, network, uts and ipc namespaces on
# a tmpfs root. Run by the boot test as
#   sh boot.sh host ROOT CAIRN_BIN DEPLOY_DIR CGROUP_DIR...
# after it has created CGROUP_DIRs (one per mounted hierarchy); "host" moves
# this process into them, so that they become the container's cgroup roots,
# then re-runs this script as "init" in the new namespaces. systemd logs to
# the container's journal. The container boots cairn-test.target,
# which starts nothing but journald: none of the host's enabled services.
set -eu

if [ "$1" = host ]; then
	shift
	root=$1 bin=$2 deploy=$3
	shift 3
	for cg; do echo $$ >"$cg/cgroup.procs"; done
	exec unshare --mount --pid --cgroup --net --uts --ipc --fork --kill-child --propagation private \
		sh "$0" init "$root" "$bin" "$deploy"
fi

# init: PID 1 of the new pid namespace, in private mount and cgroup namespaces.
root=$2 bin=$3 deploy=$4
mount -t tmpfs -o mode=0755,size=256m cairn-sd "$root"
cd "$root"
mkdir -p usr etc proc sys dev run tmp var/lib var/log root .etc/upper .etc/work
for d in bin sbin lib lib64; do
	[ -L "/$d" ] && ln -s "$(readlink "/$d")" "$d"
done
mount --bind -o ro /usr usr
mount -t overlay -o lowerdir=/etc,upperdir=.etc/upper,workdir=.etc/work overlay etc
mount -t proc proc proc
mount -t sysfs -o ro sysfs sys

# cgroups as this host has them, rooted at the test's cgroups: pure v2, or
# v1 hierarchies on a tmpfs (legacy, and hybrid with cgroup2 at unified/).
if grep -q '^[^ ]* /sys/fs/cgroup cgroup2 ' /proc/self/mounts; then
	mount -t cgroup2 cgroup2 sys/fs/cgroup
else
	mount -t tmpfs -o mode=0755,size=1m cgroup sys/fs/cgroup
	# /proc/self/mounts still shows the host's view: copy its cgroup mounts.
	grep -E '^[^ ]+ /sys/fs/cgroup/[^ ]+ cgroup2? ' /proc/self/mounts >.cgroups
	while read -r _ mnt fstype opts _; do
		sub=${mnt#/sys/fs/cgroup/}
		mkdir -p "sys/fs/cgroup/$sub"
		if [ "$fstype" = cgroup2 ]; then
			mount -t cgroup2 cgroup2 "sys/fs/cgroup/$sub"
			continue
		fi
		# Keep the options that name the hierarchy: its controllers or name=.
		keep=
		for o in $(echo "$opts" | tr , ' '); do
			case $o in
			rw | ro | relatime | noatime | nosuid | nodev | noexec | clone_children | release_agent=* | xattr) ;;
			*) keep=$keep,$o ;;
			esac
		done
		mount -t cgroup -o "${keep#,}" cgroup "sys/fs/cgroup/$sub"
	done <.cgroups
	rm .cgroups
	mount -o remount,ro,bind sys/fs/cgroup
fi

mount -t tmpfs -o mode=0755,size=1m dev dev
for n in null zero full random urandom tty; do
	touch "dev/$n"
	mount --bind "/dev/$n" "dev/$n"
done
touch dev/console && mount --bind /dev/null dev/console
mkdir dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts dev/pts
ln -s pts/ptmx dev/ptmx
mount -t tmpfs -o mode=1777 shm dev/shm
mount -t tmpfs -o mode=0755 run run
mount -t tmpfs -o mode=1777 tmp tmp

# /usr/local holds the cairn binary; install.sh writes there and to /etc.
mount -t tmpfs -o mode=0755 usrlocal usr/local
BIN="$bin" sh "$deploy/install.sh" /usr/local "$root" >/dev/null
: >etc/machine-id
# Nothing in the container may touch the host: no kernel-wide sysctls, no
# modules, no remounts of the host's file systems (fstab names them).
: >etc/fstab
for u in systemd-sysctl.service systemd-modules-load.service modprobe@.service \
	systemd-remount-fs.service systemd-binfmt.service systemd-random-seed.service; do
	ln -sf /dev/null "etc/systemd/system/$u"
done
cat >etc/systemd/system/cairn-test.target <<UNIT
[Unit]
Description=Cairn systemd test: journald and whatever the test starts
Requires=systemd-journald.socket
After=systemd-journald.socket
UNIT

exec env -i container=cairn-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	chroot "$root" /lib/systemd/systemd --unit=cairn-test.target --log-target=journal --show-status=no
