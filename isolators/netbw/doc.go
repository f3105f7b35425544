// Package netbw enforces network bandwidth per framework in the kernel: an
// HTB tree on the agent's egress interface with one class per framework, a
// tc eBPF classifier (bpf/tcclass) that puts each packet in the class of
// its socket's cgroup, and per-task network namespaces whose veth is shaped
// both ways (TaskNet).
//
// The tree, handle ca1: on the interface's root:
//
//	ca1:1   rate = ceil = the link (Config.LinkMbps)
//	├ ca1:2     default: the host and tasks without a request; rate = what
//	│           the frameworks leave (≥ 2 % of the link), ceil = the link
//	└ ca1:16…   one per framework: rate = the sum of its running tasks'
//	            network_bandwidth, ceil = the link (CeilLink, borrowing) or
//	            the rate (CeilRate, a hard limit); quantum ∝ rate (50 ms
//	            of it), so spare bandwidth is shared in proportion to the
//	            rates
//
// The classifier is a cls_bpf filter in direct-action mode on ca1: whose
// maps (cgroup → class, class → framework) are pinned in Config.PinDir.
// Everything the isolator knows is in the kernel and those pins, so an agent
// that restarts finds it again: New adopts a tree it recognises (see
// build), and Reconcile makes it match the recovered containers, all in
// place, without dropping a packet of a running flow.
//
// What is enforced: egress of every socket whose cgroup was added, also
// from a task's own network namespace (its packets are tagged on the host
// end of its veth, see tcclass). Ingress of host-network tasks is not
// shaped (a receiver cannot slow a sender without dropping, which
// collapses TCP): it is only measured, by bpf/net. Tasks with their own
// namespace are shaped both ways on their veth (TaskNet).
//
// I/O and threading: New, Close and every method make netlink and bpf
// syscalls and need CAP_NET_ADMIN and CAP_BPF (root). An Isolator is safe
// for concurrent use; its methods are serialised by one mutex and start no
// goroutines. Close (tear everything down) and Release (leave it shaping
// for the next agent) are idempotent.
package netbw
