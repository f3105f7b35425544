package usage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/net"
)

// round reads and applies one round at second sec.
func round(s *Store, f *fakeSources, sec int, targets ...Target) []Target {
	return s.Apply(at(sec), Read(f.sources(), targets))
}

func TestRingWrapsAround(t *testing.T) {
	s := NewStore(3)
	f := newFakeSources()
	c := target("c1", 11)
	for i := range 5 {
		f.counters["c1"] = Counters{Processes: uint64(i)}
		round(s, f, i, c)
	}
	_, got, ok := s.History("c1", time.Time{})
	if !ok || len(got) != 3 {
		t.Fatalf("history: %d samples, ok %v", len(got), ok)
	}
	for i, smp := range got {
		if want := uint64(i + 2); smp.Processes != want || !smp.Time.Equal(at(i+2)) {
			t.Fatalf("sample %d: processes %d at %v, want %d at %v", i, smp.Processes, smp.Time, want, at(i+2))
		}
	}
	_, recent, _ := s.History("c1", at(3))
	if len(recent) != 2 || recent[0].Processes != 3 {
		t.Fatalf("since 3 s: %+v", recent)
	}
	if _, none, _ := s.History("c1", at(9)); len(none) != 0 {
		t.Fatalf("since the future: %d samples", len(none))
	}
}

func TestRatesAndTotals(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	a, b := target("a", 1), target("b", 2)
	f.counters["a"] = Counters{MemTotal: 100 << 20}
	f.counters["b"] = Counters{MemTotal: 50 << 20, CPUTotal: 3 * time.Second}
	f.cpu[1] = cpu.Stats{OnCPU: time.Second}
	f.net[1] = net.Stats{RxBytes: 1000, TxBytes: 5000}
	round(s, f, 0, a, b)
	if tot := s.Totals(); tot.HaveRates || tot.MemBytes != 150<<20 {
		t.Fatalf("after one round: %+v", tot)
	}
	f.cpu[1] = cpu.Stats{OnCPU: 2 * time.Second} // a: 0.5 cpus over 2 s
	f.net[1] = net.Stats{RxBytes: 3000, TxBytes: 25000}
	f.cpu[2] = cpu.Stats{OnCPU: 2 * time.Second} // b: first reading after 3 s of cgroup time
	f.counters["b"] = Counters{MemTotal: 50 << 20, CPUTotal: 5 * time.Second}
	round(s, f, 2, a, b)
	v, _ := s.Get("a")
	if v.Rates.CPUs != 0.5 || v.Rates.RxBps != 1000 || v.Rates.TxBps != 10000 {
		t.Fatalf("rates of a: %+v", v.Rates)
	}
	// b predates the meter: its on-CPU time is carried over from the
	// cgroup's (5 s), and its rate compares like with like.
	vb, _ := s.Get("b")
	if vb.Latest.OnCPU != 5*time.Second {
		t.Fatalf("b on-CPU %v, want 5s carried over from the cgroup", vb.Latest.OnCPU)
	}
	tot := s.Totals()
	if !tot.HaveRates || tot.RxBps != 1000 || tot.TxBps != 10000 || tot.MemBytes != 150<<20 {
		t.Fatalf("totals: %+v", tot)
	}
	// b: cgroup time 3 s → on-CPU 5 s between its samples over 2 s.
	if want := 0.5 + 1.0; tot.CPUs != want {
		t.Fatalf("total cpus %v, want %v", tot.CPUs, want)
	}
}

func TestExitedContainerKeepsItsSamples(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	a, b := target("a", 1), target("b", 2)
	f.counters["a"] = Counters{Processes: 1}
	f.counters["b"] = Counters{Processes: 2}
	round(s, f, 0, a, b)
	// b exits between the listing and the read: its counters are gone.
	delete(f.counters, "b")
	if ended := round(s, f, 1, a, b); len(ended) != 0 {
		t.Fatalf("ended %v while still listed", ended)
	}
	_, hb, _ := s.History("b", time.Time{})
	if len(hb) != 1 {
		t.Fatalf("b has %d samples, want the one before it exited", len(hb))
	}
	ended := round(s, f, 2, a)
	if len(ended) != 1 || ended[0].Container != "b" || ended[0].CgroupID != 2 {
		t.Fatalf("ended %v, want b", ended)
	}
	if run := s.Running(); len(run) != 1 || run[0].Container != "a" {
		t.Fatalf("running %v", run)
	}
	v, hb, ok := s.History("b", time.Time{})
	if !ok || len(hb) != 1 || !v.Ended.Equal(at(2)) {
		t.Fatalf("b after its end: ok %v, %d samples, ended %v", ok, len(hb), v.Ended)
	}
	if id, ok := s.FindTask("", "t-b"); !ok || id != "b" {
		t.Fatalf("task t-b → %q %v", id, ok)
	}
	// A new container runs the same task: the running one wins.
	b2 := target("b2", 3)
	b2.TaskID = "t-b"
	f.counters["b2"] = Counters{}
	round(s, f, 3, a, b2)
	if id, _ := s.FindTask("fw1", "t-b"); id != "b2" {
		t.Fatalf("task t-b → %q, want the running b2", id)
	}
}

func TestExpireAndForget(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	a, b := target("a", 1), target("b", 2)
	f.counters["a"], f.counters["b"] = Counters{}, Counters{}
	round(s, f, 0, a, b)
	round(s, f, 1, a) // b ends at 1 s
	if gone := s.Expire(at(10), 10*time.Second); len(gone) != 0 {
		t.Fatalf("expired %v before its time", gone)
	}
	if gone := s.Expire(at(11), 10*time.Second); len(gone) != 1 || gone[0] != "b" {
		t.Fatalf("expired %v, want b", gone)
	}
	if _, ok := s.Get("b"); ok {
		t.Fatal("b still kept")
	}
	if _, ok := s.OOM(2, 0); ok {
		t.Fatal("OOM found a forgotten container by its cgroup")
	}
	s.Forget("a")
	s.Forget("nope")
	if s.Len() != 0 {
		t.Fatalf("%d containers left", s.Len())
	}
}

func TestRunQueueQuantilesAreOverTheInterval(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	c := target("c", 7)
	f.counters["c"] = Counters{}
	var h cpu.Histogram
	h.Slots[20], h.Count, h.Sum = 100, 100, 100*time.Millisecond // ~1 ms waits
	f.cpu[7] = cpu.Stats{RunQueue: h}
	round(s, f, 0, c)
	v, _ := s.Get("c")
	lo, hi := cpu.SlotRange(20)
	if p := v.Latest.RunQueueP50; p < lo || p >= hi {
		t.Fatalf("p50 %v outside [%v, %v)", p, lo, hi)
	}
	h.Slots[2] += 1000 // then 1000 short waits
	h.Count += 1000
	f.cpu[7] = cpu.Stats{RunQueue: h}
	round(s, f, 1, c)
	v, _ = s.Get("c")
	if lo2, hi2 := cpu.SlotRange(2); v.Latest.RunQueueP99 < lo2 || v.Latest.RunQueueP99 >= hi2 {
		t.Fatalf("p99 of the last interval %v, want within slot 2 [%v, %v): old waits leaked in", v.Latest.RunQueueP99, lo2, hi2)
	}
	if v.Latest.RunQueueTotal != 100*time.Millisecond {
		t.Fatalf("total %v", v.Latest.RunQueueTotal)
	}
}

func TestMeterFailureAndUnknownCgroup(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	f.cpuErr = errGone
	a, nocg := target("a", 1), target("n", 0)
	f.counters["a"] = Counters{MemRSS: 10}
	f.counters["n"] = Counters{MemRSS: 20}
	f.net[1] = net.Stats{TxBytes: 9}
	r := Read(f.sources(), []Target{a, nocg})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "read cpu meter") {
		t.Fatalf("round error %v", r.Err)
	}
	s.Apply(at(0), r)
	va, _ := s.Get("a")
	if va.Latest.EBPF || !va.Latest.Net || va.Latest.NetTxBytes != 9 {
		t.Fatalf("a: %+v", va.Latest)
	}
	vn, _ := s.Get("n")
	if vn.Latest.EBPF || vn.Latest.Net || vn.Latest.MemRSS != 20 {
		t.Fatalf("container without a cgroup id: %+v", vn.Latest)
	}
}

func TestPeakAndOOM(t *testing.T) {
	s := NewStore(0)
	f := newFakeSources()
	c := target("c", 5)
	f.counters["c"] = Counters{MemRSS: 30 << 20, MemLimit: 64 << 20}
	f.peak[5] = 40 << 20
	round(s, f, 0, c)
	if id, ok := s.OOM(5, 90<<20); !ok || id != "c" {
		t.Fatalf("OOM → %q %v", id, ok)
	}
	if v, _ := s.Get("c"); v.Latest.OOMKills != 1 || v.Latest.RSSPeak != 90<<20 {
		t.Fatalf("latest sample after the OOM: ooms %d, peak %d", v.Latest.OOMKills, v.Latest.RSSPeak)
	}
	f.counters["c"] = Counters{MemRSS: 1 << 20, MemLimit: 64 << 20}
	round(s, f, 1, c)
	v, _ := s.Get("c")
	if v.Latest.RSSPeak != 90<<20 || v.Latest.OOMKills != 1 {
		t.Fatalf("peak %d, ooms %d", v.Latest.RSSPeak, v.Latest.OOMKills)
	}
	// Without eBPF the largest RSS sampled is the peak, and the cgroup's
	// OOM count is used.
	s2, f2 := NewStore(0), newFakeSources()
	f2.counters["c"] = Counters{MemRSS: 70, OOMKills: 2}
	s2.Apply(at(0), Read(Sources{Cgroups: f2}, []Target{c}))
	f2.counters["c"] = Counters{MemRSS: 10, OOMKills: 2}
	s2.Apply(at(1), Read(Sources{Cgroups: f2}, []Target{c}))
	v2, _ := s2.Get("c")
	if v2.Latest.RSSPeak != 70 || v2.Latest.OOMKills != 2 || v2.Latest.EBPF {
		t.Fatalf("cgroups only: %+v", v2.Latest)
	}
}

func TestStatisticsKeys(t *testing.T) {
	smp := Sample{Time: at(0), Counters: Counters{MemRSS: 5}, CPUsLimit: 0.5}
	b, _ := json.Marshal(smp.Statistics())
	for _, k := range []string{`"cpus_limit":0.5`, `"mem_rss_bytes":5`, `"mem_anon_bytes":5`, `"mem_rss_peak_bytes":0`, `"timestamp":`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("%s lacks %s", b, k)
		}
	}
	for _, k := range []string{"cpus_oncpu_time_secs", "net_rx_bytes", "cpus_runqueue_delay_p99_secs"} {
		if strings.Contains(string(b), k) {
			t.Fatalf("unmeasured %s present: %s", k, b)
		}
	}
	smp.EBPF, smp.Net, smp.OnCPU, smp.NetTxBytes = true, true, 1500*time.Millisecond, 7
	b, _ = json.Marshal(smp.Statistics())
	for _, k := range []string{`"cpus_oncpu_time_secs":1.5`, `"net_tx_bytes":7`, `"net_rx_bytes":0`, `"cpus_runqueue_delay_p99_secs":0`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("%s lacks %s", b, k)
		}
	}
	p := smp.Proto()
	if p.GetCpusOncpuTimeSecs() != 1.5 || p.GetNetTxBytes() != 7 || p.GetMemAnonBytes() != 5 {
		t.Fatalf("proto %v", p)
	}
}
