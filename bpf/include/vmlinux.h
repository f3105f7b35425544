/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal vmlinux.h for Cairn's eBPF programs.
 *
 * Derived once from `bpftool btf dump file /sys/kernel/btf/vmlinux format c`
 * (Linux 6.18, x86-64) and trimmed to what bpf/cpu, bpf/net and bpf/mem use.
 * The full dump is 2.8 MB; this keeps the tree readable and the programs'
 * dependencies on kernel internals visible in one place.
 *
 * Two kinds of definitions live here:
 *  - UAPI (stable ABI): basic types, map types, flags, struct __sk_buff.
 *    These must match the kernel's layout exactly and never change.
 *  - Kernel internals (task_struct, mm_struct, ...): declared with only the
 *    fields we read and marked preserve_access_index, so every access is a
 *    CO-RE relocation resolved against the running kernel's BTF at load time.
 *    Field order and the missing fields do not matter; names and types do.
 *
 * Needs: Linux >= 6.2 (mm_struct.rss_stat as percpu_counter[]),
 * >= 5.14 (task_struct.__state), CONFIG_SCHED_INFO (task_struct.sched_info),
 * and an oom/mark_victim tracepoint that passes the victim task (recent
 * kernels; older ones pass only a pid).
 */
#ifndef CAIRN_VMLINUX_H
#define CAIRN_VMLINUX_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short int __s16;
typedef short unsigned int __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long int __s64;
typedef long long unsigned int __u64;
typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int uid_t;

enum {
	false = 0,
	true = 1,
};

/* UAPI: include/uapi/linux/bpf.h */

enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_F_NO_PREALLOC = 1,
};

enum {
	BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};

struct bpf_flow_keys;
struct bpf_sock;

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;
	__u32 data_end;
	__u32 napi_id;
	__u32 family;
	__u32 remote_ip4;
	__u32 local_ip4;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
	__u32 remote_port;
	__u32 local_port;
	__u32 data_meta;
	union {
		struct bpf_flow_keys *flow_keys;
	} __attribute__((aligned(8)));
	__u64 tstamp;
	__u32 wire_len;
	__u32 gso_segs;
	union {
		struct bpf_sock *sk;
	} __attribute__((aligned(8)));
	__u32 gso_size;
	__u8 tstamp_type;
	__u64 hwtstamp;
};

/* Kernel internals, relocated with CO-RE. */

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node {
	u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

struct percpu_counter {
	s64 count;
};

/* enum mm_counter_type */
enum {
	MM_FILEPAGES = 0,
	MM_ANONPAGES = 1,
	MM_SWAPENTS = 2,
	MM_SHMEMPAGES = 3,
	NR_MM_COUNTERS = 4,
};

struct mm_struct {
	struct percpu_counter rss_stat[4];
};

struct sched_entity {
	u64 sum_exec_runtime;
	u64 prev_sum_exec_runtime;
};

struct sched_info {
	unsigned long pcount;
	unsigned long long run_delay;
};

struct task_struct {
	struct sched_entity se;
	struct sched_info sched_info;
	unsigned int __state;
	pid_t pid;
	pid_t tgid;
	struct mm_struct *mm;
	char comm[16];
	struct css_set *cgroups;
};

#pragma clang attribute pop

#endif /* CAIRN_VMLINUX_H */
