// Package containerizer runs Cairn's containers. It is the only package that
// imports runc's libcontainer.
//
// Linux (New) creates containers with libcontainer: mount, pid, ipc and uts
// namespaces (and a given network namespace), cgroups through libcontainer's
// fs driver on v1 and hybrid hosts and its fs2 driver on v2 hosts (chosen by
// probing /sys/fs/cgroup, as libcontainer does), a read-only root made of the
// host's /bin /sbin /usr /lib /lib64 /etc plus proc, a minimal /dev, a
// read-only /sys and a tmpfs /tmp, and the sandbox at SandboxMount. Limits
// come from package isolators. The binary that uses Linux must call Init when
// os.Args[1] == "init" (libcontainer re-executes it to set up each container).
//
// Package fake has the same methods without privileges, for agent tests.
//
// I/O: Linux writes StateDir (libcontainer state and the containers' root
// directories) and cgroup files, and reads /proc and /sys. Threading: all
// methods are safe for concurrent use; each running container has one reaper
// goroutine that ends when its init process exits, and Destroy waits for it.
// Containers outlive the agent process: a new agent finds them with
// Containers and may Signal, Usage and Destroy them, or Recover one to use
// it as if it had launched it (Wait included, through a pidfd, since the
// container's init is no child of the new agent).
package containerizer
