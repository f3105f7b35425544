//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// OOM kills and peak RSS per cgroup.
//
// oom/mark_victim fires when the OOM killer (global or memory cgroup) picks
// a victim; the event, with the victim's cgroup v2 id, goes to user space
// through a ring buffer.
//
// kmem/rss_stat fires whenever one of an mm's RSS counters changes. Only an
// event about the current task's own mm can be attributed to a cgroup (the
// current task's); for those we compute the mm's RSS as the kernel's
// get_mm_rss() does — file + anon + shmem pages, each the percpu counter's
// approximate count clamped at 0, the same figure VmRSS, VmHWM and ru_maxrss
// report — and keep, per cgroup, the largest value seen: the peak RSS of the
// cgroup's largest process, not of the cgroup's processes summed.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct oom_event {
	u64 time_ns;     // bpf_ktime_get_ns (CLOCK_MONOTONIC)
	u64 cgroup_id;   // victim's cgroup v2 id
	u64 rss_pages;   // victim's RSS (file + anon + shmem) when picked
	u32 pid;         // victim's process (thread group) id
	u32 tid;         // the thread picked
	u32 uid;
	char comm[16];
	u32 pad;
};

// Only reserved from the ring buffer, never a map's value: this keeps the
// type in BTF so that bpf2go generates its Go twin.
const struct oom_event *unused_oom_event __attribute__((unused));

struct lost {
	u64 events;      // OOM events the ring buffer had no room for
	u64 cgroup_full; // peak updates the cgroup table had no room for
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} oom_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u64); // peak RSS in pages seen on this CPU
} peaks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lost);
} losses SEC(".maps");

// The index must be a constant: CO-RE relocates rss_stat[i] by the kernel's
// size of struct percpu_counter only when i is known at compile time.
#define COUNTER(mm, i) ({ s64 v_ = BPF_CORE_READ(mm, rss_stat[i].count); v_ > 0 ? (u64)v_ : 0; })

static __always_inline u64 rss_pages(struct mm_struct *mm)
{
	return COUNTER(mm, MM_FILEPAGES) + COUNTER(mm, MM_ANONPAGES) + COUNTER(mm, MM_SHMEMPAGES);
}

// The same, by direct loads from a pointer the verifier trusts (a tp_btf
// argument): several times cheaper than BPF_CORE_READ's probe reads, which
// matters on a path taken at every page fault.
static __always_inline u64 counter(s64 v)
{
	return v > 0 ? (u64)v : 0;
}

static __always_inline struct lost *losses_here(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&losses, &zero);
}

// Per CPU: the peak of the cgroup whose task faulted last on this CPU, not
// yet merged into the peaks map. A faulting task raises its RSS in long runs
// of events on one CPU; keeping the running peak here saves the hash lookup
// that would otherwise dominate every event. A run that interrupts another
// on the same CPU finds the slot busy and goes to the map directly.
struct last {
	u64 busy;      // nonzero while a program run owns the slot
	u64 cgroup_id; // 0: empty
	u64 peak;      // pages
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct last);
} lasts SEC(".maps");

// merge raises the cgroup's peak in the map to at least pages.
static __always_inline void merge(u64 id, u64 pages)
{
	u64 *peak = bpf_map_lookup_elem(&peaks, &id);
	if (!peak) {
		if (bpf_map_update_elem(&peaks, &id, &pages, BPF_NOEXIST) == 0)
			return;
		peak = bpf_map_lookup_elem(&peaks, &id);
		if (!peak) {
			struct lost *l = losses_here();
			if (l)
				__sync_fetch_and_add(&l->cgroup_full, 1);
			return;
		}
	}
	// Per-CPU, but runs can nest on a CPU: compare and swap so the larger
	// value wins.
	for (int i = 0; i < 4; i++) {
		u64 old = *peak;
		if (pages <= old)
			break;
		if (__sync_val_compare_and_swap(peak, old, pages) == old)
			break;
	}
}

SEC("tp_btf/rss_stat")
int BPF_PROG(on_rss_stat, struct mm_struct *mm, int member)
{
	if (member == MM_SWAPENTS)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->mm != mm)
		return 0;
	u64 pages = counter(mm->rss_stat[MM_FILEPAGES].count) +
		    counter(mm->rss_stat[MM_ANONPAGES].count) +
		    counter(mm->rss_stat[MM_SHMEMPAGES].count);
	u64 id = task->cgroups->dfl_cgrp->kn->id;

	u32 zero = 0;
	struct last *l = bpf_map_lookup_elem(&lasts, &zero);
	if (l && __sync_fetch_and_add(&l->busy, 1) == 0) {
		if (l->cgroup_id == id) {
			if (pages > l->peak)
				l->peak = pages;
		} else {
			if (l->cgroup_id != 0)
				merge(l->cgroup_id, l->peak);
			l->cgroup_id = id;
			l->peak = pages;
		}
		__sync_fetch_and_add(&l->busy, -1);
		return 0;
	}
	if (l)
		__sync_fetch_and_add(&l->busy, -1);
	merge(id, pages);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(on_mark_victim, struct task_struct *task, uid_t uid)
{
	struct oom_event *e = bpf_ringbuf_reserve(&oom_events, sizeof(*e), 0);
	if (!e) {
		struct lost *l = losses_here();
		if (l)
			__sync_fetch_and_add(&l->events, 1);
		return 0;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	e->rss_pages = mm ? rss_pages(mm) : 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->uid = uid;
	e->pad = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
