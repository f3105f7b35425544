//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// Per-cgroup CPU accounting from the scheduler's tracepoints.
//
// On every sched_switch the slice that just ended is charged to the cgroup of
// the task leaving the CPU, and the CPU remembers when and for which cgroup the
// next slice started (struct running), so a reader can add the slice still in
// flight: the kernel charges time only at switch-out, and a task that is never
// preempted would otherwise look idle.
//
// Run-queue delay is the time a task waits runnable before it gets a CPU: from
// sched_wakeup / sched_wakeup_new, or from being preempted while still
// runnable, to its next switch-in. Delays go into a log2 histogram per cgroup.
//
// Cgroups are keyed by their cgroup v2 id (the inode number of the cgroup's
// directory in the unified hierarchy), also on hybrid v1+v2 hosts.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

// Slot 0 holds delays below 2^10 ns, slot i (1..30) [2^(i+9), 2^(i+10)) ns,
// slot 31 everything from 2^40 ns (18 minutes) up. Mirrored in histogram.go.
#define DELAY_SLOTS 32
#define DELAY_SHIFT 9

// Per cgroup and per CPU: the CPU's share of the cgroup's counters.
struct cg_cpu {
	u64 on_cpu_ns;      // completed slices
	u64 switches;       // times one of the cgroup's tasks left a CPU
	u64 involuntary;    // ... while still runnable (preempted, yielded)
	u64 delay_ns;       // sum of run-queue delays
	u64 delays;         // number of run-queue delays
	u64 delay_slot[DELAY_SLOTS];
};

// Per CPU: the slice running now. cgroup_id 0 means idle or unknown.
struct running {
	u64 start_ns;
	u64 cgroup_id;
	u64 seq;            // switches seen on this CPU, to detect a racing read
	u32 pid;
	u32 pad;
};

// Per task: since when it has been runnable and waiting, 0 if not.
struct waiting {
	u64 since_ns;
};

// Per CPU: events the maps had no room for.
struct lost {
	u64 cgroup_full;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct cg_cpu);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct running);
} runs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct waiting);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lost);
} losses SEC(".maps");

static const struct cg_cpu zero_cg;

static __always_inline u64 task_cgroup_id(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline struct cg_cpu *cg_entry(u64 id)
{
	struct cg_cpu *c = bpf_map_lookup_elem(&cgroups, &id);
	if (c)
		return c;
	bpf_map_update_elem(&cgroups, &id, &zero_cg, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&cgroups, &id);
	if (!c) {
		u32 zero = 0;
		struct lost *l = bpf_map_lookup_elem(&losses, &zero);
		if (l)
			l->cgroup_full++;
	}
	return c;
}

static __always_inline u32 delay_slot(u64 ns)
{
	u32 r = 0;
	// Branchy log2: bounded, no loop, fine for the verifier.
	if (ns >> 32) { ns >>= 32; r += 32; }
	if (ns >> 16) { ns >>= 16; r += 16; }
	if (ns >> 8) { ns >>= 8; r += 8; }
	if (ns >> 4) { ns >>= 4; r += 4; }
	if (ns >> 2) { ns >>= 2; r += 2; }
	if (ns >> 1) { r += 1; }
	if (r <= DELAY_SHIFT)
		return 0;
	r -= DELAY_SHIFT;
	return r < DELAY_SLOTS ? r : DELAY_SLOTS - 1;
}

static __always_inline void mark_waiting(struct task_struct *t, u64 now)
{
	struct waiting *w = bpf_task_storage_get(&waits, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (w)
		w->since_ns = now;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	mark_waiting(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	mark_waiting(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u64 now = bpf_ktime_get_ns();
	u32 zero = 0;
	struct running *run = bpf_map_lookup_elem(&runs, &zero);
	if (!run)
		return 0;

	if (prev->pid != 0) {
		// Still runnable after the switch: preempted or yielding, so
		// it waits on the run queue from now on. Otherwise it sleeps,
		// and its wakeup will start the wait.
		bool runnable = preempt || prev->__state == 0;
		// The task leaving is current, so the helper gives its cgroup
		// as of now, even if it moved during the slice.
		struct cg_cpu *c = cg_entry(bpf_get_current_cgroup_id());
		if (c) {
			if (run->start_ns != 0 && run->pid == (u32)prev->pid)
				c->on_cpu_ns += now - run->start_ns;
			c->switches++;
			if (runnable)
				c->involuntary++;
		}
		struct waiting *w = bpf_task_storage_get(&waits, prev, 0,
							 runnable ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
		if (w)
			w->since_ns = runnable ? now : 0;
	}

	run->seq++;
	if (next->pid == 0) {
		run->start_ns = now;
		run->cgroup_id = 0;
		run->pid = 0;
		return 0;
	}
	u64 cg = task_cgroup_id(next);
	run->start_ns = now;
	run->cgroup_id = cg;
	run->pid = next->pid;

	struct waiting *w = bpf_task_storage_get(&waits, next, 0, 0);
	if (w && w->since_ns != 0) {
		u64 since = w->since_ns;
		w->since_ns = 0;
		if (now > since) {
			struct cg_cpu *c = cg_entry(cg);
			if (c) {
				u64 d = now - since;
				c->delay_ns += d;
				c->delays++;
				c->delay_slot[delay_slot(d) & (DELAY_SLOTS - 1)]++;
			}
		}
	}
	return 0;
}
