package bpftest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sched is what the scheduler itself counted for a process, summed over its
// threads: the CPU meter's ground truth.
type Sched struct {
	Runtime     time.Duration // schedstat: CPU time
	RunDelay    time.Duration // schedstat: time waited on a run queue
	Waits       uint64        // schedstat: waits that ended (pcount)
	Voluntary   uint64        // status: voluntary_ctxt_switches
	Involuntary uint64        // status: nonvoluntary_ctxt_switches
}

// ProcSched reads /proc/<pid>/task/*/{schedstat,status}.
func ProcSched(t testing.TB, pid int) Sched {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	var s Sched
	for _, dir := range tasks {
		data, err := os.ReadFile(filepath.Join(dir, "schedstat"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(data))
		if len(f) != 3 {
			t.Fatalf("%s/schedstat: %q", dir, data)
		}
		s.Runtime += time.Duration(atou(t, f[0]))
		s.RunDelay += time.Duration(atou(t, f[1]))
		s.Waits += atou(t, f[2])
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch k {
			case "voluntary_ctxt_switches":
				s.Voluntary += atou(t, strings.TrimSpace(v))
			case "nonvoluntary_ctxt_switches":
				s.Involuntary += atou(t, strings.TrimSpace(v))
			}
		}
	}
	return s
}

// Add returns the sum of two processes' figures.
func (s Sched) Add(o Sched) Sched {
	return Sched{s.Runtime + o.Runtime, s.RunDelay + o.RunDelay, s.Waits + o.Waits,
		s.Voluntary + o.Voluntary, s.Involuntary + o.Involuntary}
}

func atou(t testing.TB, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
