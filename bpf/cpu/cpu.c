//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// Per-cgroup CPU accounting from the sched_switch tracepoint alone.
//
// The scheduler already keeps, per task, the CPU time it ran
// (se.sum_exec_runtime, the figure cgroups' cpu.stat adds up) and the time it
// waited runnable on a run queue (sched_info.run_delay, with pcount counting
// the waits that ended). Both are up to date for the task leaving the CPU when
// sched_switch fires, and unchanged for the task arriving until after it.
// So at each switch the program notes, per CPU, the arriving task's two
// counters, and charges the leaving task's growth since its arrival to the
// leaving task's cgroup: the slice's CPU time, and the one run-queue wait that
// ended when the slice began (a log2 histogram of those waits per cgroup).
//
// No clock is read and no per-task state is kept. Charges go to a small
// per-CPU cache of cgroups first and reach the cgroups hash map only when
// evicted, so a switch usually costs one per-CPU array lookup and a few adds.
// Readers add the cache and the slice still running (charged only at
// switch-out): from the running task's own counter (/proc/<tid>/schedstat)
// minus the value noted here.
//
// Cgroups are keyed by their cgroup v2 id (the inode number of the cgroup's
// directory in the unified hierarchy), also on hybrid v1+v2 hosts.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// Slot 0 holds delays below 2^10 ns, slot i (1..30) [2^(i+9), 2^(i+10)) ns,
// slot 31 everything from 2^40 ns (18 minutes) up. Mirrored in histogram.go.
#define DELAY_SLOTS 32
#define DELAY_SHIFT 9

// Per cgroup and per CPU: the CPU's share of the cgroup's counters.
struct cg_cpu {
	u64 on_cpu_ns;      // completed slices
	u64 switches;       // times one of the cgroup's tasks left a CPU
	u64 involuntary;    // ... while still runnable (preempted, yielding)
	u64 delay_ns;       // sum of run-queue delays
	u64 delays;         // number of run-queue delays
	u64 unseen;         // slices whose arrival was not seen: wait unknown
	u64 delay_slot[DELAY_SLOTS];
};

// Per CPU: a cgroup's counters not yet added to the cgroups map. Most
// switches on a CPU go between a handful of cgroups; charging those here
// saves the hash lookup that dominates the program's cost.
struct pending {
	u64 cgroup_id;      // 0: free
	struct cg_cpu c;
};

#define CACHED 4

// Per CPU: the slice running now, and the pending counters. The reader adds
// both to what the cgroups map holds.
struct running {
	u64 seq;            // odd while the program updates this struct
	u64 start_runtime;  // the task's se.sum_exec_runtime when it arrived
	u64 start_delay;    // its sched_info.run_delay, before this wait was added
	u64 start_pcount;   // its sched_info.pcount, likewise
	u64 cgroup_id;      // 0: idle, or nothing known yet
	u32 pid;            // the task (thread) id
	u32 evict;          // the cache slot to reuse next
	struct pending cached[CACHED];
};

// Per CPU: events the maps had no room for.
struct lost {
	u64 cgroup_full;    // charges dropped: the cgroups map was full
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
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lost);
} losses SEC(".maps");

static const struct cg_cpu zero_cg;

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

// flush adds a cache slot's counters to the cgroups map.
static __always_inline void flush(struct pending *p)
{
	struct cg_cpu *c = cg_entry(p->cgroup_id);
	if (!c)
		return;
	c->on_cpu_ns += p->c.on_cpu_ns;
	c->switches += p->c.switches;
	c->involuntary += p->c.involuntary;
	c->delay_ns += p->c.delay_ns;
	c->delays += p->c.delays;
	c->unseen += p->c.unseen;
	for (int i = 0; i < DELAY_SLOTS; i++)
		c->delay_slot[i] += p->c.delay_slot[i];
}

// cached returns the cgroup's counters in this CPU's cache, making room by
// flushing the oldest slot when the cgroup is not there.
static __always_inline struct cg_cpu *cached(struct running *run, u64 id)
{
	for (int i = 0; i < CACHED; i++)
		if (run->cached[i].cgroup_id == id)
			return &run->cached[i].c;
	struct pending *p = &run->cached[run->evict & (CACHED - 1)];
	run->evict++;
	if (p->cgroup_id != 0)
		flush(p);
	p->cgroup_id = id;
	__builtin_memset(&p->c, 0, sizeof(p->c));
	return &p->c;
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

// charge adds prev's slice to prev's cgroup, as of now even if prev moved
// during the slice.
//
// run normally describes prev's arrival on this CPU. It may not: the meter
// was attached during the slice, or the kernel switched tasks by a path that
// skips the tracepoint (seen on a virtualised 6.18 kernel, for the host
// agent's threads) — then run may even describe an older slice of prev. The
// scheduler's own mark of where the slice began, prev_sum_exec_runtime (set
// when the fair class picks a task; older for other classes), settles it:
// the later of the two marks is the slice's start. The run-queue wait is
// known only for slices whose arrival was seen.
static __always_inline void charge(struct running *run, struct task_struct *prev, bool preempt)
{
	bool seen = run->cgroup_id != 0 && run->pid == (u32)prev->pid;
	u64 now = prev->se.sum_exec_runtime;
	u64 start = prev->se.prev_sum_exec_runtime;
	if (seen && run->start_runtime > start)
		start = run->start_runtime;
	struct cg_cpu *c = cached(run, prev->cgroups->dfl_cgrp->kn->id);
	if (now > start)
		c->on_cpu_ns += now - start;
	c->switches++;
	// Still runnable: preempted or yielding; else it sleeps.
	if (preempt || prev->__state == 0)
		c->involuntary++;
	if (!seen)
		c->unseen++;
	else if (prev->sched_info.pcount - run->start_pcount == 1) {
		u64 d = prev->sched_info.run_delay - run->start_delay;
		c->delay_ns += d;
		c->delays++;
		c->delay_slot[delay_slot(d) & (DELAY_SLOTS - 1)]++;
	}
}

// sched_switch runs with the run queue locked and interrupts off: nothing
// else on this CPU touches runs or this CPU's share of cgroups meanwhile.
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 zero = 0;
	struct running *run = bpf_map_lookup_elem(&runs, &zero);
	if (!run)
		return 0;
	__sync_fetch_and_add(&run->seq, 1); // odd: readers retry

	if (prev->pid != 0)
		charge(run, prev, preempt);

	run->pid = next->pid;
	if (next->pid == 0) {
		run->cgroup_id = 0;
	} else {
		run->cgroup_id = next->cgroups->dfl_cgrp->kn->id;
		run->start_runtime = next->se.sum_exec_runtime;
		run->start_delay = next->sched_info.run_delay;
		run->start_pcount = next->sched_info.pcount;
	}
	__sync_fetch_and_add(&run->seq, 1); // even: consistent
	return 0;
}
