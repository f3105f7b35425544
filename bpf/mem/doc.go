// Package mem meters memory per cgroup with eBPF: OOM kills as they happen,
// and the peak RSS of each cgroup.
//
// The C side (mem.c) hooks two BTF tracepoints. oom/mark_victim fires when
// the OOM killer (global or a memory cgroup's) picks a victim; the event
// carries the victim's cgroup v2 id (bpf.CgroupID), pid, name and RSS, and is
// delivered through a ring buffer to Events.
//
// kmem/rss_stat fires whenever an mm's RSS counters change. For changes to
// the current task's own mm the program computes the mm's RSS as the
// kernel's get_mm_rss() does (file + anon + shmem pages, the figure behind
// VmRSS, VmHWM and ru_maxrss) and keeps the largest value per cgroup. PeakRSS
// is therefore the peak RSS of the cgroup's largest process since Open, not
// the sum over its processes. Changes made to an mm by another task (reclaim,
// fork copying into a child) are not attributed; they only ever lower RSS or
// precede the child's own faults. The running peak of the cgroup that
// faulted last on a CPU stays in a per-CPU slot until another cgroup faults
// there (saving a hash lookup per fault); readers merge the slots. The
// memory cgroup's own counters (memory.current, memory.peak; v1
// usage_in_bytes, max_usage_in_bytes) remain the source for cgroup totals.
//
// I/O and threading: Open loads and attaches the programs and starts one
// goroutine that reads the ring buffer and sends to the Events channel (it
// blocks while the channel is full; the kernel then keeps up to 64 KiB of
// events and counts the rest in Lost). PeakRSS, PeakAll, Forget and Lost are
// map syscalls. A Meter is safe for concurrent use; Close detaches, stops the
// goroutine, waits for it and closes the channel, and is idempotent.
package mem
