//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// Traffic classes per cgroup for an HTB tree: a tc program that gives each
// packet the HTB class of the cgroup its socket was created in.
//
// classify runs as a cls_bpf filter in direct-action mode on the HTB qdisc
// itself (parent ca1:). It writes the class into skb->tc_classid and returns
// TC_ACT_OK; cls_bpf ORs the filter's own classid major into it, so the
// filter must be created with classid ca1:0 (kernel.md: without the major
// every packet silently falls to the default class). A packet it does not
// know gets TC_ACT_UNSPEC, never TC_ACT_OK with a zero class: ca1:0 is the
// qdisc's own handle and HTB would send it unshaped (HTB_DIRECT).
//
// Forwarded packets (from a task's own network namespace, routed out by the
// host) have lost their socket by the time they reach the uplink: ip_rcv
// orphans every skb. tag, a clsact ingress program on the host end of the
// task's veth, sees the socket still (veth keeps it) and writes the class
// into skb->mark, which survives forwarding; classify falls back to a mark
// whose major is the tree's. Marks of other majors are left alone.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0

// HTB handle major of the tree (Go: tcclass.Major). Class ids are
// Major<<16 | minor.
#define MAJOR 0x0ca1
#define MAJOR_MASK 0xffff0000u

// cgroup v2 id -> HTB class id. Pinned by name, so a restarted agent finds
// the map the running filter still uses.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} classes SEC(".maps");

// HTB class id -> the framework it belongs to. Only user space reads and
// writes it: it is how a restarted agent tells which class is whose.
struct fw_name {
	char id[200];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct fw_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frameworks SEC(".maps");

static __always_inline u32 *class_of(struct __sk_buff *skb)
{
	u64 id = bpf_skb_cgroup_id(skb); // 0 without a full socket
	if (!id)
		return 0;
	return bpf_map_lookup_elem(&classes, &id);
}

SEC("tc")
int classify(struct __sk_buff *skb)
{
	u32 *class = class_of(skb);
	if (class) {
		skb->tc_classid = *class;
		return TC_ACT_OK;
	}
	u32 mark = skb->mark;
	if ((mark & MAJOR_MASK) == (MAJOR << 16) && (mark & ~MAJOR_MASK)) {
		skb->tc_classid = mark;
		return TC_ACT_OK;
	}
	return TC_ACT_UNSPEC; // HTB's default class
}

SEC("tc")
int tag(struct __sk_buff *skb)
{
	u32 *class = class_of(skb);
	if (class)
		skb->mark = *class;
	return TC_ACT_OK; // let it pass, whatever it is
}
