// Package tcclass is the eBPF side of network bandwidth isolation: a tc
// program that puts each packet in the HTB class of the cgroup its socket
// was created in, and the maps that say which cgroup is in which class.
//
// The C side (tcclass.c) has two programs. Classify is a cls_bpf filter in
// direct-action mode on an HTB qdisc whose handle major is Major; it sets
// skb->tc_classid from the classes map (cgroup v2 id → class id) and leaves
// unknown packets to HTB's default class. Tag is a clsact ingress program
// for the host end of a task's veth: packets from a task's own network
// namespace lose their socket when the host routes them, so Tag writes their
// class into skb->mark, which Classify reads when a packet has no socket it
// knows. A second map, frameworks (class id → framework id), is written and
// read only from user space; it lets a restarted agent tell whose each class
// is.
//
// Both maps are pinned by name in a directory of a bpffs chosen by the
// caller, so the filter the kernel keeps running after the agent is gone and
// the agent that comes back share them: Load adopts pinned maps when present.
// This package only loads programs and edits maps; the qdiscs, classes and
// filters are isolators/netbw's.
//
// I/O and threading: Load and Probe make bpf syscalls (root or CAP_BPF +
// CAP_NET_ADMIN); every other method is one map syscall. A Classifier is safe
// for concurrent use and starts no goroutines; Close is idempotent and leaves
// the pins in place, Unpin removes them.
package tcclass
