// Package cpu meters CPU per cgroup with eBPF: on-CPU time (including the
// slice still running when read), context switches, and run-queue delay (the
// time a task waits runnable for a CPU) as a log2 histogram with quantiles.
//
// The C side (cpu.c) hooks three BTF tracepoints: sched_switch charges the
// slice that ends to the cgroup of the task leaving and records, per CPU, when
// and for which cgroup the next slice starts; sched_wakeup and
// sched_wakeup_new start a task's wait, as does being preempted while
// runnable, and the next switch-in ends it. Cgroups are keyed by cgroup v2 id
// (see bpf.CgroupID), also on hybrid v1+v2 hosts.
//
// Counters are cumulative since Open (slices that began before Open are not
// counted). Stats.Sub turns two readings into an interval.
//
// I/O and threading: Open loads and attaches the programs (needs root or
// CAP_BPF+CAP_PERFMON, and raises RLIMIT_MEMLOCK on kernels that still charge
// BPF memory to it); Read, ReadAll and Forget are map syscalls. A Meter is safe
// for concurrent use and starts no goroutines; Close detaches and is idempotent.
package cpu
