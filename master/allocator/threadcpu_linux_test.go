package allocator

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling OS thread: what an allocation
// round costs however loaded the machine is (the benchmark locks itself to
// one thread). Background GC work on other threads is not in it.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
