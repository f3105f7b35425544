package containerizer

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/isolators"
)

func TestMemoryLimitOOM(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.Mem{}).Spec(isolators.Request{MemMB: 64}, &lim); err != nil {
		t.Fatal(err)
	}
	// tail keeps the last "line" of /dev/zero in memory, and it never ends:
	// it grows until the kernel kills it. It is the init process itself.
	s := Spec{Sandbox: b.dir, Args: []string{"/usr/bin/tail", "/dev/zero"}, Stdout: b.stdout, Stderr: b.stderr, Limits: lim}
	id := launch(t, l, s)
	e := wait(t, l, id)
	if !e.OOMKilled || e.Signal != syscall.SIGKILL {
		t.Errorf("exit = %+v, want OOM kill by SIGKILL", e)
	}
	u, err := l.Usage(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("memory: limit %d MiB, peak %d MiB, oom kills %d", u.MemLimitBytes>>20, u.MemMaxUsageBytes>>20, u.OOMKills)
	if u.MemLimitBytes != 64<<20 || u.OOMKills == 0 || u.MemMaxUsageBytes > 64<<20 {
		t.Errorf("usage after OOM: limit %d, oom kills %d, peak %d", u.MemLimitBytes, u.OOMKills, u.MemMaxUsageBytes)
	}
}

func TestCPUQuota(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.CPU{EnableCFS: true}).Spec(isolators.Request{CPUs: 0.5}, &lim); err != nil {
		t.Fatal(err)
	}
	// The largest weight, so that on a busy machine the container still gets
	// the CPU it may use and runs into its quota.
	lim.CPUShares = 262144
	// Two spinners on a two-core machine: unthrottled they would use 2 cpus.
	s := shell(b, "while :; do :; done & while :; do :; done")
	s.Limits = lim
	start := time.Now()
	id := launch(t, l, s)
	time.Sleep(3 * time.Second)
	u, err := l.Usage(id)
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(u.CPUUsageNanos) / float64(wall.Nanoseconds())
	t.Logf("cpu 0.5: used %.3f s of cpu in %.3f s wall = %.3f cpus (user %.3f s, system %.3f s); periods %d, throttled %d (%.3f s)",
		float64(u.CPUUsageNanos)/1e9, wall.Seconds(), ratio, u.CPUUserSeconds, u.CPUSystemSeconds, u.CPUPeriods, u.CPUThrottled, u.CPUThrottledSeconds)
	if ratio > 0.55 {
		t.Errorf("container used %.3f cpus with a 0.5 cpu quota", ratio)
	}
	if ratio < 0.1 {
		t.Errorf("container used only %.3f cpus: did the spinners run?", ratio)
	}
	if u.CPUThrottled == 0 || u.CPUPeriods == 0 {
		t.Errorf("nr_periods %d, nr_throttled %d: want throttling", u.CPUPeriods, u.CPUThrottled)
	}
	if u.Processes != 2 || u.Threads != 2 {
		t.Errorf("processes %d, threads %d; want 2 and 2 (the shell and its spinning child)", u.Processes, u.Threads)
	}
}

func TestPidsLimit(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	// A fork loop that only stops when fork fails.
	s := shell(b, "while :; do sleep 600 & done")
	s.Limits = isolators.Limits{PidsMax: 16}
	id := launch(t, l, s)
	e := wait(t, l, id)
	_, stderr := b.out(t)
	if e.Code == 0 || !strings.Contains(strings.ToLower(stderr), "fork") {
		t.Errorf("exit %+v, stderr %q: want the shell to fail to fork", e, stderr)
	}
	if got := cgroupFile(t, l, id, "pids", "pids.max"); got != "16" {
		t.Errorf("pids.max = %q", got)
	}
	if got := cgroupFile(t, l, id, "pids", "pids.events"); got == "max 0" {
		t.Errorf("pids.events = %q: the limit was never hit", got)
	}
}
