package cpu

import "time"

// Stats is what the meter knows about one cgroup, cumulative since Open.
type Stats struct {
	// OnCPU is the time the cgroup's tasks ran: every completed slice plus
	// the slices running at the moment of the read.
	OnCPU time.Duration
	// Running is how many CPUs were running the cgroup's tasks when read.
	Running int
	// Switches counts context switches away from the cgroup's tasks;
	// Involuntary those where the task was still runnable (preempted or
	// yielding), the rest are voluntary (it blocked or slept).
	Switches    uint64
	Involuntary uint64
	// RunQueue holds the delays between a task becoming runnable (wakeup
	// or preemption) and getting a CPU, one per slice.
	RunQueue Histogram
	// Unseen counts slices whose start the meter did not see: the meter was
	// attached during the slice, or the kernel switched to the task without
	// firing sched_switch (some virtualised kernels do, for a few of their
	// own threads). Their CPU time is counted; their wait is not in RunQueue.
	Unseen uint64
}

// Voluntary returns the switches where the task blocked or slept.
func (s Stats) Voluntary() uint64 { return sub(s.Switches, s.Involuntary) }

// Sub returns the activity between old and s, two readings of the same
// cgroup. Counters that went backwards (the cgroup was forgotten and counted
// anew, or a slice ended during a racing read) yield their current value or
// zero rather than wrapping around.
func (s Stats) Sub(old Stats) Stats {
	on := s.OnCPU - old.OnCPU
	if on < 0 {
		on = 0
	}
	return Stats{
		OnCPU:       on,
		Running:     s.Running,
		Switches:    sub(s.Switches, old.Switches),
		Involuntary: sub(s.Involuntary, old.Involuntary),
		RunQueue:    s.RunQueue.Sub(old.RunQueue),
		Unseen:      sub(s.Unseen, old.Unseen),
	}
}
