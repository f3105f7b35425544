package cpu_test

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/internal/bpftest"
)

func TestMain(m *testing.M) { bpftest.Main(m) }

func openMeter(t *testing.T) *cpu.Meter {
	t.Helper()
	bpftest.Require(t, cpu.Needs...)
	m, err := cpu.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

func lastCPU() string { return strconv.Itoa(runtime.NumCPU() - 1) }

// A task spinning 2 s of CPU on one core is measured within ±3 % of 2 s, of
// its own rusage and of the kernel's cpu.stat for its cgroup; and already
// while it runs, when much of its time is in the slice not yet switched out.
func TestSpinTwoSeconds(t *testing.T) {
	m := openMeter(t)
	cg := bpftest.NewCgroup(t)
	p := bpftest.Start(t, cg, "spin", "-cpu", lastCPU(), "-for", "2s")
	p.Expect(t, "spinning")

	time.Sleep(time.Second)
	u1 := cg.UsageUsec(t)
	mid, err := m.Read(cg.ID)
	if err != nil {
		t.Fatal(err)
	}
	u2 := cg.UsageUsec(t)
	truth := time.Duration((u1+u2)/2) * time.Microsecond
	t.Logf("while running: meter %v (%d CPUs running it, %d switches), cpu.stat %v", mid.OnCPU, mid.Running, mid.Switches, truth)
	if !bpftest.Within(float64(mid.OnCPU), float64(truth), 0.03) {
		t.Errorf("while running: meter says %v, cpu.stat %v: more than 3 %% apart", mid.OnCPU, truth)
	}

	spun := p.Expect(t, "spun")
	st := p.Wait(t)
	ru := st.SysUsage().(*syscall.Rusage)
	rusage := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	end, err := m.Read(cg.ID)
	if err != nil {
		t.Fatal(err)
	}
	stat := time.Duration(cg.UsageUsec(t)) * time.Microsecond
	t.Logf("after exit: meter %v, cpu.stat %v, rusage %v, spinner's own clock %sns; %d switches (%d involuntary)",
		end.OnCPU, stat, rusage, strings.Fields(spun)[0], end.Switches, end.Involuntary)
	for _, c := range []struct {
		name  string
		truth time.Duration
	}{{"2 s", 2 * time.Second}, {"cpu.stat", stat}, {"rusage", rusage}} {
		if !bpftest.Within(float64(end.OnCPU), float64(c.truth), 0.03) {
			t.Errorf("meter says %v, %s %v: more than 3 %% apart", end.OnCPU, c.name, c.truth)
		}
	}
	if lost, err := m.Lost(); err != nil || lost != 0 {
		t.Errorf("meter lost %d charges (%v)", lost, err)
	}
	if end.Running != 0 {
		t.Errorf("exited cgroup still running on %d CPUs", end.Running)
	}

	all, err := m.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if all[cg.ID] != end {
		t.Errorf("ReadAll has %+v for the cgroup, Read %+v", all[cg.ID], end)
	}
	if err := m.Forget(cg.ID); err != nil {
		t.Fatal(err)
	}
	if s, err := m.Read(cg.ID); err != nil || s != (cpu.Stats{}) {
		t.Errorf("after Forget: %+v, %v; want zero stats", s, err)
	}
	if all, err := m.ReadAll(); err != nil || all[cg.ID] != (cpu.Stats{}) {
		t.Errorf("after Forget, ReadAll has %+v, %v", all[cg.ID], err)
	}
}

// Two spinners pinned to one CPU wait for each other: every moment one runs
// the other waits runnable, so the cgroup's run-queue delays add up to about
// its CPU time, and each spinner is preempted many times. The delays, waits
// and switches match what the scheduler counted for the spinners' threads
// (/proc/<pid>/task/*/schedstat and status).
func TestRunQueueDelayTwoSpinnersOneCPU(t *testing.T) {
	m := openMeter(t)
	cg := bpftest.NewCgroup(t)
	other := bpftest.NewCgroup(t)
	a := bpftest.Start(t, cg, "spin", "-cpu", lastCPU(), "-for", "1s", "-hold")
	b := bpftest.Start(t, cg, "spin", "-cpu", lastCPU(), "-for", "1s", "-hold")
	a.Expect(t, "spun")
	b.Expect(t, "spun")
	// Both now sleep on stdin: every slice has ended, every wait is counted.
	truth := bpftest.ProcSched(t, a.Pid()).Add(bpftest.ProcSched(t, b.Pid()))
	s, err := m.Read(cg.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Wait(t)
	b.Wait(t)

	h := s.RunQueue
	t.Logf("meter: on CPU %v, %d switches (%d involuntary); run-queue delay: %d waits, total %v, mean %v, p50 %v, p90 %v, p99 %v; %d slices unseen",
		s.OnCPU, s.Switches, s.Involuntary, h.Count, h.Sum, h.Mean(), h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), s.Unseen)
	t.Logf("scheduler: on CPU %v, %d switches (%d involuntary); %d waits, total %v", truth.Runtime,
		truth.Voluntary+truth.Involuntary, truth.Involuntary, truth.Waits, truth.RunDelay)
	t.Logf("histogram: %s", slots(h))
	if h.Count == 0 || s.Involuntary == 0 {
		t.Fatalf("no run-queue delay recorded for two spinners sharing a CPU: %+v", s)
	}
	if h.Sum < s.OnCPU/2 {
		t.Errorf("run-queue delay totals %v, but each spinner waited while the other ran (%v on CPU together)", h.Sum, s.OnCPU)
	}
	// A slice whose start the kernel did not trace has no sampled wait
	// (see Stats.Unseen): the delay total is then only a lower bound.
	if s.Unseen == 0 && !bpftest.Within(float64(h.Sum), float64(truth.RunDelay), 0.03) {
		t.Errorf("run-queue delay: meter %v, scheduler %v: more than 3 %% apart", h.Sum, truth.RunDelay)
	}
	if float64(h.Sum) > 1.03*float64(truth.RunDelay) {
		t.Errorf("run-queue delay: meter %v, more than the scheduler's %v", h.Sum, truth.RunDelay)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"on-CPU time", float64(s.OnCPU), float64(truth.Runtime)},
		{"waits", float64(h.Count + s.Unseen), float64(truth.Waits)},
		{"switches", float64(s.Switches), float64(truth.Voluntary + truth.Involuntary)},
		{"involuntary switches", float64(s.Involuntary), float64(truth.Involuntary)},
	} {
		if !bpftest.Within(c.got, c.want, 0.03) {
			t.Errorf("%s: meter %.0f, scheduler %.0f: more than 3 %% apart", c.what, c.got, c.want)
		}
	}
	if p := h.Quantile(0.5); p <= 0 || p > h.Quantile(0.99) {
		t.Errorf("p50 %v, p99 %v: not ordered", p, h.Quantile(0.99))
	}
	if o, err := m.Read(other.ID); err != nil || o != (cpu.Stats{}) {
		t.Errorf("an empty cgroup has %+v, %v", o, err)
	}
}

func slots(h cpu.Histogram) string {
	var b strings.Builder
	for i, c := range h.Slots {
		if c == 0 {
			continue
		}
		lo, hi := cpu.SlotRange(i)
		fmt.Fprintf(&b, "[%v,%v):%d ", lo, hi, c)
	}
	return b.String()
}
