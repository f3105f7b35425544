package isolators

import (
	"fmt"
	"math"
)

// Isolator computes one part of a container's kernel limits.
type Isolator interface {
	// Name is the Mesos-like name the operator selects it by with --isolation,
	// for example "cgroups/cpu".
	Name() string

	// Spec fills the fields of l that this isolator owns from the container's
	// resources. It is pure and deterministic, leaves fields it does not own
	// untouched, and on error leaves l entirely unchanged.
	Spec(req Request, l *Limits) error
}

// Request is the part of a container's resources the isolators look at: the
// sum of the executor's and its tasks' resources.
type Request struct {
	CPUs  float64 // Mesos "cpus" scalar
	MemMB float64 // Mesos "mem" scalar, in MB (2^20 bytes)
	// QuotaCPUs, when set below CPUs, is the hard CFS quota of the
	// processes the executor starts (Limits.TaskCPUQuotaUs), while the
	// container as a whole keeps the quota of CPUs. The agent sets it to the
	// task's own cpus under the command executor: the framework's task is
	// held to exactly what it asked for, and the executor's 0.1-cpu overhead
	// is not taken from it — nor is the executor throttled to the task's
	// quota while it starts (a 0.01-cpu task gets 1 ms per 100 ms period,
	// which made the executor's start-up take a second).
	QuotaCPUs float64
}

// Limits are a container's cgroup settings. A zero field means "not set":
// the containerizer leaves the kernel default (no limit) in place.
type Limits struct {
	CPUShares   uint64 // cpu.shares (v1); converted to cpu.weight on v2
	CPUQuotaUs  int64  // CFS quota per period, in microseconds
	CPUPeriodUs uint64 // CFS period, in microseconds
	// TaskCPUQuotaUs is the CFS quota (same period) of a cgroup nested in
	// the container's, that the executor moves the processes it starts
	// into; zero means none.
	TaskCPUQuotaUs int64

	MemoryBytes     int64 // hard memory limit
	MemorySwapBytes int64 // memory plus swap (v1 memsw semantics); equal to MemoryBytes means no swap

	PidsMax int64 // maximum number of tasks (processes and threads)
}

// checkQuantity rejects values no resource can take: NaN, infinities and
// negative numbers. Zero is allowed here; each isolator decides what zero means.
func checkQuantity(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("invalid %s: %v", name, v)
	}
	return nil
}
