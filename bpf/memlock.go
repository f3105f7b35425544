package bpf

import (
	"golang.org/x/sys/unix"
)

// RemoveMemlock lifts RLIMIT_MEMLOCK for this process as far as it may,
// for kernels before 5.11, which charge BPF maps and programs to it (later
// ones charge the memory cgroup and ignore it). It does what cilium/ebpf's
// rlimit package does without importing it: that package probes the kernel
// with a BPF syscall in its init, in every process this binary starts — the
// agent's containers' init and executors included — for a limit this host
// ignores.
//
// It is best effort: a process without CAP_SYS_RESOURCE cannot raise the
// hard limit, which is harmless on a kernel that ignores it, and on one
// that does not, loading the programs fails with the kernel's own EPERM.
func RemoveMemlock() {
	inf := &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if unix.Setrlimit(unix.RLIMIT_MEMLOCK, inf) == nil {
		return
	}
	var cur unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &cur) == nil && cur.Cur < cur.Max {
		cur.Cur = cur.Max
		_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &cur)
	}
}
