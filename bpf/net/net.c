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

// Per CPU: a cgroup's traffic not yet added to the cgroups map. Most
// packets on a CPU belong to a handful of cgroups; counting those here saves
// the hash lookup that dominates the program's cost. A program run that
// interrupts another on the same CPU (softirq over process context) finds
// the cache busy and goes to the map directly, so the cache has one writer
// at a time and needs no atomics.
struct pending {
	u64 cgroup_id; // 0: free
	struct traffic t;
};

#define CACHED 4

struct cache {
	u64 busy;      // nonzero while a program run owns the cache
	u64 seq;       // odd while the owner updates it, for readers
	u64 evict;     // the slot to reuse next
	struct pending cached[CACHED];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct cache);
} caches SEC(".maps");

static const struct traffic zero_traffic;

static __always_inline struct traffic *cg_entry(u64 id)
{
	struct traffic *t = bpf_map_lookup_elem(&cgroups, &id);
	if (t)
		return t;
	bpf_map_update_elem(&cgroups, &id, &zero_traffic, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&cgroups, &id);
	if (!t) {
		u32 zero = 0;
		struct lost *l = bpf_map_lookup_elem(&losses, &zero);
		if (l)
			__sync_fetch_and_add(&l->cgroup_full, 1);
	}
	return t;
}

// add counts into the map. Atomic although per-CPU: a run in process
// context can be interrupted on the same CPU by one in softirq context (an
// ACK sent on receive) for the same cgroup.
static __always_inline void add(struct traffic *t, u64 rxb, u64 rxp, u64 txb, u64 txp)
{
	if (rxp) {
		__sync_fetch_and_add(&t->rx_bytes, rxb);
		__sync_fetch_and_add(&t->rx_packets, rxp);
	}
	if (txp) {
		__sync_fetch_and_add(&t->tx_bytes, txb);
		__sync_fetch_and_add(&t->tx_packets, txp);
	}
}

static __always_inline struct traffic *cached(struct cache *c, u64 id)
{
	for (int i = 0; i < CACHED; i++)
		if (c->cached[i].cgroup_id == id)
			return &c->cached[i].t;
	struct pending *p = &c->cached[c->evict & (CACHED - 1)];
	c->evict++;
	if (p->cgroup_id != 0) {
		struct traffic *t = cg_entry(p->cgroup_id);
		if (t)
			add(t, p->t.rx_bytes, p->t.rx_packets, p->t.tx_bytes, p->t.tx_packets);
	}
	p->cgroup_id = id;
	p->t = zero_traffic;
	return &p->t;
}

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

// header_len returns the length of the IP and TCP/UDP headers that every
// segment of a GSO packet repeats, or 0 when the packet is neither. The
// headers are read in place (cgroup_skb data starts at the IP header, and a
// GSO packet the stack built keeps its headers in the linear part), falling
// back to bpf_skb_load_bytes, which costs several times more, when they are
// not there.
static __always_inline u32 header_len(struct __sk_buff *skb)
{
	u8 *data = (u8 *)(long)skb->data;
	u8 *end = (u8 *)(long)skb->data_end;
	u32 ip_len, proto_off;
	u8 b, proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (data + 20 <= end)
			b = data[0];
		else if (bpf_skb_load_bytes(skb, 0, &b, 1))
			return 0;
		ip_len = (b & 0x0f) * 4;
		proto_off = 9;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		ip_len = 40; // extension headers are not followed: rare with GSO
		proto_off = 6;
	} else {
		return 0;
	}
	if (data + 40 <= end)
		proto = data[proto_off];
	else if (bpf_skb_load_bytes(skb, proto_off, &proto, 1))
		return 0;
	if (proto == IPPROTO_UDP)
		return ip_len + 8;
	if (proto != IPPROTO_TCP || ip_len < 20 || ip_len > 60)
		return 0;
	u8 *doff = data + ip_len + 12;
	if (doff + 1 <= end)
		b = *doff;
	else if (bpf_skb_load_bytes(skb, ip_len + 12, &b, 1))
		return 0;
	return ip_len + (b >> 4) * 4;
}

static __always_inline void account(struct __sk_buff *skb, bool egress)
{
	u64 segs = skb->gso_segs;
	u64 bytes = skb->len;
	if (segs > 1)
		bytes += (segs - 1) * header_len(skb);
	else
		segs = 1;
	u64 id = bpf_skb_cgroup_id(skb);

	u32 zero = 0;
	struct cache *c = bpf_map_lookup_elem(&caches, &zero);
	if (c && __sync_fetch_and_add(&c->busy, 1) == 0) {
		__sync_fetch_and_add(&c->seq, 1); // odd: readers retry
		struct traffic *t = cached(c, id);
		if (egress) {
			t->tx_bytes += bytes;
			t->tx_packets += segs;
		} else {
			t->rx_bytes += bytes;
			t->rx_packets += segs;
		}
		__sync_fetch_and_add(&c->seq, 1); // even: consistent
		__sync_fetch_and_add(&c->busy, -1);
		return;
	}
	if (c)
		__sync_fetch_and_add(&c->busy, -1);
	struct traffic *t = cg_entry(id);
	if (!t)
		return;
	if (egress)
		add(t, 0, 0, bytes, segs);
	else
		add(t, bytes, segs, 0, 0);
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
