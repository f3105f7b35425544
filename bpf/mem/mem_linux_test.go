package mem_test

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cairnhq/cairn/bpf/mem"
)

func TestMain(m *testing.M) { bpftest.Main(m) }

func openMeter(t *testing.T) *mem.Meter {
	t.Helper()
	bpftest.Require(t, mem.Needs...)
	m, err := mem.Open()
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

const mib = 1 << 20

// A task holding 200 MiB it wrote to is measured within ±5 % of what it
// holds (200 MiB over its baseline before the allocation) and of its own
// VmHWM, and the peak outlives the task.
func TestPeakRSS200MiB(t *testing.T) {
	m := openMeter(t)
	cg := bpftest.NewCgroup(t)
	idle := bpftest.NewCgroup(t)
	p := bpftest.Start(t, cg, "hold", "-bytes", "209715200")
	base, err := strconv.ParseUint(p.Expect(t, "baseline"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	p.Expect(t, "holding")
	held := 200*mib + base
	hwm := bpftest.ProcStatusKB(t, p.Pid(), "VmHWM")
	rss := bpftest.ProcStatusKB(t, p.Pid(), "VmRSS")
	peak, err := m.PeakRSS(cg.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %d bytes (%.1f MiB); the task's VmHWM %.1f MiB, VmRSS %.1f MiB; held 200 MiB over a %.1f MiB baseline",
		peak, float64(peak)/mib, float64(hwm)/mib, float64(rss)/mib, float64(base)/mib)
	if !bpftest.Within(float64(peak), float64(hwm), 0.05) {
		t.Errorf("peak RSS %d, VmHWM %d: more than 5 %% apart", peak, hwm)
	}
	if !bpftest.Within(float64(peak), float64(held), 0.05) {
		t.Errorf("peak RSS %d, held %d: more than 5 %% apart", peak, held)
	}
	p.Wait(t)
	after, err := m.PeakRSS(cg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after < peak {
		t.Errorf("peak fell from %d to %d when the task exited", peak, after)
	}
	all, err := m.PeakAll()
	if err != nil {
		t.Fatal(err)
	}
	if all[cg.ID] != after {
		t.Errorf("PeakAll has %d, PeakRSS %d", all[cg.ID], after)
	}
	if got, _ := m.PeakRSS(idle.ID); got != 0 {
		t.Errorf("a cgroup without tasks has peak %d", got)
	}
	if err := m.Forget(cg.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.PeakRSS(cg.ID); got != 0 {
		t.Errorf("after Forget: peak %d", got)
	}
}

// A task in a memory-limited cgroup that keeps allocating is OOM-killed, and
// the event names it and its cgroup v2 id.
func TestOOMKillEvent(t *testing.T) {
	m := openMeter(t)
	cg := bpftest.NewCgroup(t)
	p := bpftest.Start(t, cg, "hog")
	p.Expect(t, "ready")
	const limit = 64 * mib
	where := bpftest.LimitMemory(t, cg, p.Pid(), limit)
	p.Send(t, "go")

	// Other OOM kills on the machine may arrive too: wait for ours. The
	// deadline only keeps a broken kernel from hanging the test.
	deadline := time.After(time.Minute)
	var ev mem.OOMEvent
	for ev.PID != p.Pid() {
		select {
		case ev = <-m.Events():
			t.Logf("OOM event: %+v", ev)
		case <-deadline:
			t.Fatalf("no OOM event for pid %d within a minute (limit in %s)", p.Pid(), where)
		}
	}
	st := p.Wait(t)
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("hog ended with %v, want SIGKILL", st)
	}
	if ev.CgroupID != cg.ID {
		t.Errorf("OOM event has cgroup %d, the victim is in %d", ev.CgroupID, cg.ID)
	}
	if ev.Comm == "" || ev.TID == 0 || time.Since(ev.Time) > time.Minute || time.Since(ev.Time) < 0 {
		t.Errorf("OOM event incomplete: %+v", ev)
	}
	// The limit also covers kernel memory (page tables, stacks), and RSS
	// counts the binary's file pages, which the memory cgroup need not have
	// been charged for: RSS at the kill is near the limit, either side.
	if ev.RSS < limit*3/4 || ev.PeakRSS < ev.RSS {
		t.Errorf("OOM event RSS %d, peak %d; limit %d", ev.RSS, ev.PeakRSS, uint64(limit))
	}
	t.Logf("victim pid %d (%s) in cgroup %d killed with RSS %.1f MiB, cgroup peak %.1f MiB, limit %d MiB in %s",
		ev.PID, ev.Comm, ev.CgroupID, float64(ev.RSS)/mib, float64(ev.PeakRSS)/mib, limit/mib, where)
}

// Close ends delivery: the channel closes, and a second Close is harmless.
func TestCloseClosesEvents(t *testing.T) {
	bpftest.Require(t, mem.Needs...)
	m, err := mem.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-m.Events(); ok {
		t.Error("event after Close")
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := m.PeakRSS(1); err == nil {
		t.Error("PeakRSS after Close succeeded")
	}
}
