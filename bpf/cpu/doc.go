// Package cpu meters CPU per cgroup with eBPF: on-CPU time (including the
// slices still running when read), context switches, and run-queue delay (the
// time a task waits runnable for a CPU) as a log2 histogram with quantiles.
//
// The C side (cpu.c) hooks one BTF tracepoint, sched_switch, and reads no
// clock: the scheduler already keeps each task's CPU time
// (se.sum_exec_runtime, what cpu.stat adds up) and run-queue wait
// (sched_info.run_delay, what /proc/<pid>/schedstat shows). At each switch the
// program notes, per CPU, the arriving task's counters, and charges the
// leaving task's growth since then — one slice and the one wait that preceded
// it — to the leaving task's cgroup, first into a four-cgroup per-CPU cache,
// and into the cgroups map when the cache evicts it. Readers add the caches
// and the slices still running (from /proc/<tid>/schedstat of the running
// tasks), so figures are current to the read. Cgroups are keyed by cgroup v2
// id (see bpf.CgroupID), also on hybrid v1+v2 hosts.
//
// Counters are cumulative since Open (slices that began before Open count
// from their start). Stats.Sub turns two readings into an interval; the
// agent keeps the previous reading.
//
// I/O and threading: Open loads and attaches the program (needs root or
// CAP_BPF+CAP_PERFMON, and raises RLIMIT_MEMLOCK on kernels that still charge
// BPF memory to it); Read, ReadAll and Forget are map syscalls plus, for
// running slices, one read of /proc/<tid>/schedstat per CPU running a
// matching task (the meter's process must see host pids). A Meter is safe for
// concurrent use and starts no goroutines; Close detaches and is idempotent.
package cpu
