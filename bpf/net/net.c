//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// Per-cgroup network traffic from cgroup_skb programs.
//
// Attached at the root of the cgroup v2 hierarchy, the programs see every
// packet of every full socket on the host, in every network namespace, and
// charge it to the socket's cgroup (bpf_skb_cgroup_id: the cgroup the socket
// was created in). They only count: both always return 1, "allow".
//
// Bytes are L3 lengths of the segments on the wire. A GSO super-packet (one
// skb standing for many TCP or UDP segments) carries its headers once; the
// wire carries them once per segment, so the headers are added gso_segs - 1
// times. Packets are wire segments: max(gso_segs, 1).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

_Static_assert(__builtin_offsetof(struct __sk_buff, gso_segs) == 164, "struct __sk_buff layout");

struct traffic {
	u64 rx_bytes;
	u64 rx_packets;
	u64 tx_bytes;
	u64 tx_packets;
};

struct lost {
	u64 cgroup_full;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct traffic);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lost);
} losses SEC(".maps");

static const struct traffic zero_traffic;

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

// header_len returns the length of the IP and TCP/UDP headers that every
// segment of a GSO packet repeats, or 0 when the packet is neither.
static __always_inline u32 header_len(struct __sk_buff *skb)
{
	u8 b;
	u32 ip_len, proto_off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1))
			return 0;
		ip_len = (b & 0x0f) * 4;
		proto_off = 9;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		ip_len = 40; // extension headers are not followed: rare with GSO
		proto_off = 6;
	} else {
		return 0;
	}
	u8 proto;
	if (bpf_skb_load_bytes(skb, proto_off, &proto, 1))
		return 0;
	if (proto == IPPROTO_UDP)
		return ip_len + 8;
	if (proto != IPPROTO_TCP)
		return 0;
	if (bpf_skb_load_bytes(skb, ip_len + 12, &b, 1))
		return 0;
	return ip_len + (b >> 4) * 4;
}

static __always_inline void account(struct __sk_buff *skb, bool egress)
{
	u64 id = bpf_skb_cgroup_id(skb);
	struct traffic *t = bpf_map_lookup_elem(&cgroups, &id);
	if (!t) {
		bpf_map_update_elem(&cgroups, &id, &zero_traffic, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&cgroups, &id);
		if (!t) {
			u32 zero = 0;
			struct lost *l = bpf_map_lookup_elem(&losses, &zero);
			if (l)
				__sync_fetch_and_add(&l->cgroup_full, 1);
			return;
		}
	}
	u64 segs = skb->gso_segs;
	u64 bytes = skb->len;
	if (segs > 1)
		bytes += (segs - 1) * header_len(skb);
	else
		segs = 1;
	// Atomic although per-CPU: a program run in process context can be
	// interrupted by one in softirq context (an ACK sent on receive) on the
	// same CPU, for the same cgroup.
	if (egress) {
		__sync_fetch_and_add(&t->tx_bytes, bytes);
		__sync_fetch_and_add(&t->tx_packets, segs);
	} else {
		__sync_fetch_and_add(&t->rx_bytes, bytes);
		__sync_fetch_and_add(&t->rx_packets, segs);
	}
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	account(skb, false);
	return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	account(skb, true);
	return 1;
}
