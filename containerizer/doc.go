// Package containerizer runs Cairn's containers. It is the only package that
// imports runc's libcontainer.
//
// Linux (New) creates containers with libcontainer: mount, pid, ipc and uts
// namespaces (and a given network namespace), cgroups (see below), a
// read-only root made of the host's /bin /sbin /usr /lib /lib64 /etc plus
// proc, a minimal /dev, a read-only /sys and a tmpfs /tmp, and the sandbox
// at SandboxMount. Limits
// come from package isolators. The binary that uses Linux must call Init when
// os.Args[1] == "init" (libcontainer re-executes it to set up each container).
//
// Cgroups come from one of two drivers (Config.CgroupsDriver, settled once by
// New): cgroupfs, libcontainer's fs manager on v1 and hybrid hosts and its
// fs2 manager on v2 (chosen by probing /sys/fs/cgroup, as libcontainer does),
// below CgroupsRoot; or systemd, libcontainer's systemd manager, one
// transient scope cairn-<id>.scope in cairn.slice per container. auto picks
// systemd where systemd is init and the host is pure v2.
//
// Package fake has the same methods without privileges, for agent tests.
//
// I/O: New may connect to systemd over D-Bus once (a few seconds at most);
// under the systemd driver Launch and Destroy start and stop units over it.
// Linux writes StateDir (libcontainer state and the containers' root
// directories) and cgroup files, and reads /proc and /sys. Threading: all
// methods are safe for concurrent use; each running container has one reaper
// goroutine that ends when its init process exits, and Destroy waits for it.
// Containers outlive the agent process: a new agent finds them with
// Containers and may Signal, Usage and Destroy them, or Recover one to use
// it as if it had launched it (Wait included, through a pidfd, since the
// container's init is no child of the new agent).
package containerizer
