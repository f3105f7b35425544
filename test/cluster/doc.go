// Package cluster runs real cairn processes as a cluster of network namespaces
// on one machine, for end-to-end tests.
//
// New builds, for one test, a hub network namespace holding a Linux bridge,
// N node namespaces each joined to the bridge by a veth pair (node i has
// 10.250.S.(i+1)/24 on its "eth0"), and one veth from the root namespace into
// the bridge with 10.250.S.254/24, so the test process itself can reach the
// nodes' ports. S is picked at random among the /24s no route of the root
// namespace and no other live cluster uses. There is no default route, no NAT
// and no forwarding anywhere: traffic stays between the test's own namespaces.
//
// Processes run inside a node's network namespace but in the host's mount, pid
// and cgroup namespaces: Node.Start runs `nsenter --net=/run/netns/NAME -- argv`.
// nsenter enters the namespace and execs argv (it does not fork), so Proc.Pid is
// the target's pid and signals reach it directly. `ip netns exec` is not used on
// purpose: it remounts /sys, which hides the cgroup hierarchies an agent needs.
// The flip side is that /sys/class/net still shows the root namespace's links;
// code that must see the node's interfaces has to ask netlink, not sysfs.
//
// Everything a cluster creates is named after its ID ("cn-" + 8 hex digits):
// netns ID-hub and ID-nI, the root-side veth ID. A state file under
// /run/cairn-test/cluster/ records the creating process (pid and start time)
// before any object exists; Sweep, run at the start of every New, removes the
// objects of clusters whose creator has died without cleaning up. Each object's
// removal is registered with t.Cleanup right after it is created, so a failed
// or panicking test, even one that dies half-way through New, leaves nothing.
// Started processes get SIGKILL if the test process dies (PR_SET_PDEATHSIG);
// in Cleanup they get SIGTERM, then SIGKILL after a short grace, and whatever
// else still runs in a node namespace is killed before the namespace goes.
//
// I/O: runs the ip and nsenter commands (iproute2, util-linux), writes process
// logs under t.ArtifactDir, and state files under /run/cairn-test. Threading:
// a Cluster and its Nodes are used from the test goroutine (New, Start, Cut
// and Heal may call t.Fatal); Proc methods are safe from any goroutine.
package cluster
