package containerizer

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/isolators"
)

// TestCountersMatchUsage: the lean reader agrees with libcontainer's full
// statistics on a container that spins under a CPU quota and holds 50 MB.
// Cumulative figures are bracketed by a Usage before and after; levels are
// compared once they settled.
func TestCountersMatchUsage(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.Mem{}).Spec(isolators.Request{MemMB: 128}, &lim); err != nil {
		t.Fatal(err)
	}
	if err := (isolators.CPU{EnableCFS: true}).Spec(isolators.Request{CPUs: 0.3}, &lim); err != nil {
		t.Fatal(err)
	}
	s := shell(b, "timeout 1 sh -c 'while :; do :; done'; (head -c 50000000 /dev/zero; sleep 300) | tail")
	s.Limits = lim
	id := launch(t, l, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		u, err := l.Usage(id)
		if err != nil {
			t.Fatal(err)
		}
		if u.MemRSSBytes >= 50_000_000 && u.Processes >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container never held 50 MB in 3 processes: %+v", u)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before, err := l.Usage(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Counters(id)
	if err != nil {
		t.Fatal(err)
	}
	after, err := l.Usage(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("counters %+v", c)
	if c.CPUUsageNanos < before.CPUUsageNanos || c.CPUUsageNanos > after.CPUUsageNanos || c.CPUUsageNanos == 0 {
		t.Errorf("cpu %d ns, usage read %d then %d", c.CPUUsageNanos, before.CPUUsageNanos, after.CPUUsageNanos)
	}
	if c.CPUPeriods < before.CPUPeriods || c.CPUThrottled < before.CPUThrottled || c.CPUThrottled == 0 || c.CPUThrottledSeconds < before.CPUThrottledSeconds {
		t.Errorf("throttling %d/%d %.3f s, usage %d/%d %.3f s", c.CPUThrottled, c.CPUPeriods, c.CPUThrottledSeconds, before.CPUThrottled, before.CPUPeriods, before.CPUThrottledSeconds)
	}
	if d := c.CPUUserSeconds + c.CPUSystemSeconds - before.CPUUserSeconds - before.CPUSystemSeconds; d < -0.02 || d > 0.1 {
		t.Errorf("user+system %.2f+%.2f s, usage %.2f+%.2f s", c.CPUUserSeconds, c.CPUSystemSeconds, before.CPUUserSeconds, before.CPUSystemSeconds)
	}
	if c.MemLimitBytes != 128<<20 || c.MemLimitBytes != before.MemLimitBytes {
		t.Errorf("memory limit %d, usage %d", c.MemLimitBytes, before.MemLimitBytes)
	}
	near := func(name string, got, want uint64) {
		if d := int64(got) - int64(want); d < -1<<20 || d > 1<<20 {
			t.Errorf("%s %d, usage %d", name, got, want)
		}
	}
	near("rss", c.MemRSSBytes, before.MemRSSBytes)
	near("total", c.MemTotalBytes, before.MemTotalBytes)
	near("file", c.MemFileBytes, before.MemFileBytes)
	near("mapped file", c.MemMappedFileBytes, before.MemMappedFileBytes)
	if c.Processes != before.Processes || c.Threads != before.Threads || c.OOMKills != before.OOMKills || c.MemSwapBytes != before.MemSwapBytes {
		t.Errorf("processes %d threads %d ooms %d swap %d; usage %d %d %d %d", c.Processes, c.Threads, c.OOMKills, c.MemSwapBytes,
			before.Processes, before.Threads, before.OOMKills, before.MemSwapBytes)
	}
}

// TestCountersSeeTheTaskCgroupsThrottling: a command task spins in the
// nested task cgroup under its own quota (0.3 of the container's 0.4); its
// throttling shows in Counters, which the container's own cgroup would not.
func TestCountersSeeTheTaskCgroupsThrottling(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.CPU{EnableCFS: true}).Spec(isolators.Request{CPUs: 0.4, QuotaCPUs: 0.3}, &lim); err != nil {
		t.Fatal(err)
	}
	s := shell(b, `echo $$ >&$`+TaskCgroupFDEnv+`; timeout 1 sh -c 'while :; do :; done'; sleep 30`)
	s.Limits = lim
	id := launch(t, l, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := l.Counters(id)
		if err != nil {
			t.Fatal(err)
		}
		if c.CPUThrottled >= 5 {
			t.Logf("throttled %d of %d periods, %.3f s; cpu %.3f s", c.CPUThrottled, c.CPUPeriods, c.CPUThrottledSeconds, float64(c.CPUUsageNanos)/1e9)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a task spinning under a 0.3 cpu quota was never seen throttled: %+v", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
