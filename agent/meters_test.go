package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/containerizer/fake"
	"github.com/cairnhq/cairn/master/gossip"
)

// TestUsageEndpointsWithCgroupCounters runs a task on the fake
// containerizer (real processes, no cgroups): the agent measures with
// cgroup counters only and says so, /monitor/history answers with the
// contract `cairn stats` reads, /metrics carries the task's series, and
// GET_CONTAINERS' statistics match.
func TestUsageEndpointsWithCgroupCounters(t *testing.T) {
	m := newFakeMaster(t)
	a, err := New(testConfig(t, m), testLogger(), WithContainerizer(fake.New()))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.register(t, "m1-S1")
	ta.run(t, customExecutorTask("t1", "e1", "sleep 30"))

	var hist historyReply
	eventually(t, "two samples in /monitor/history", func() bool {
		code, body := ta.raw(t, rawCase{method: "GET", path: "/monitor/history?task_id=t1&since=300s"})
		if code != 200 {
			return false
		}
		if err := json.Unmarshal([]byte(body), &hist); err != nil {
			t.Fatalf("history %s: %v", body, err)
		}
		return len(hist.Samples) >= 2
	})
	if hist.FrameworkID != "fw1" || hist.ExecutorID != "e1" || hist.TaskID != "t1" || hist.ContainerID == "" {
		t.Fatalf("history labels %+v", hist)
	}
	s0, s1 := hist.Samples[0], hist.Samples[1]
	if s1.Timestamp <= s0.Timestamp || s1.MemRSSBytes == 0 || s1.CPUsLimit != 0.2 || s1.CPUsOnCPUTimeSecs != nil {
		t.Fatalf("samples %+v then %+v", s0, s1)
	}

	code, body := ta.raw(t, rawCase{method: "GET", path: "/slave(1)/monitor/history?container_id=" + hist.ContainerID + "&since=0.5"})
	var recent historyReply
	if err := json.Unmarshal([]byte(body), &recent); code != 200 || err != nil || len(recent.Samples) > len(hist.Samples) {
		t.Fatalf("history since 0.5 s: %d %s", code, body)
	}
	for _, c := range []rawCase{
		{path: "/monitor/history", want: 400, msg: "Expecting 'container_id' or 'task_id'"},
		{path: "/monitor/history?task_id=nope", want: 404},
		{path: "/monitor/history?task_id=t1&since=yesterday", want: 400, msg: "since"},
		{path: "/monitor/history?task_id=t1", method: "POST", want: 405},
	} {
		if c.method == "" {
			c.method = "GET"
		}
		code, body := ta.raw(t, c)
		if code != c.want || !strings.Contains(body, c.msg) {
			t.Errorf("%s %s: %d %q, want %d with %q", c.method, c.path, code, body, c.want, c.msg)
		}
	}

	code, body = ta.raw(t, rawCase{method: "GET", path: "/metrics"})
	for _, want := range []string{
		`cairn_agent_usage_source{source="cgroups"} 1`,
		`cairn_task_memory_rss_bytes{executor_id="e1",framework_id="fw1",task_id="t1"}`,
		`# TYPE cairn_task_cpu_user_seconds_total counter`,
		`# TYPE cairn_task_memory_rss_peak_bytes gauge`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %s (%d): %s", want, code, body)
		}
	}
	if strings.Contains(body, "cairn_task_cpu_oncpu_seconds_total{") {
		t.Fatalf("eBPF series without eBPF: %s", body)
	}

	cs, err := a.containerStatuses(context.Background())
	if err != nil || len(cs) != 1 {
		t.Fatalf("containers %v, %v", cs, err)
	}
	c := cs[0]
	if c.GetExecutorId().GetValue() != "e1" || c.GetContainerId().GetValue() != hist.ContainerID ||
		c.GetResourceStatistics().GetMemRssBytes() == 0 || c.GetResourceStatistics().Timestamp == nil {
		t.Fatalf("container %v", c)
	}
	if a.usageSource() != UsageSourceCgroups {
		t.Fatalf("usage source %q", a.usageSource())
	}
}

// TestAvailabilityCarriesMeasured: the gossip record sums the running
// containers' rates from their last two samples.
func TestAvailabilityCarriesMeasured(t *testing.T) {
	u := &usageMonitor{store: usage.NewStore(0)}
	a := &Agent{usage: u}
	t0 := time.Now()
	c1, c2 := usage.Target{Container: "c1"}, usage.Target{Container: "c2"}
	round := func(at time.Time, cpu1, cpu2 time.Duration) {
		u.store.Apply(at, usage.Round{Targets: []usage.Target{c1, c2}, Readings: []usage.Reading{
			{Target: c1, Counters: usage.Counters{CPUTotal: cpu1, MemTotal: 300 << 20}},
			{Target: c2, Counters: usage.Counters{CPUTotal: cpu2, MemTotal: 100 << 20}},
		}})
	}
	round(t0, 0, time.Second)
	round(t0.Add(2*time.Second), 3*time.Second, 2*time.Second) // 1.5 + 0.5 cpus
	av := a.availability(&state{}, 7)
	if want := (gossip.Usage{CPUsMilli: 2000, MemMB: 400}); av.Measured != want {
		t.Fatalf("measured %+v, want %+v", av.Measured, want)
	}
	if u.measuredChanged(time.Now()) {
		t.Fatal("a change asked right after the record was built")
	}
}

func TestUsageSourceFlag(t *testing.T) {
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.UsageSource = "perf"
	if _, err := New(cfg, testLogger(), WithContainerizer(fake.New())); err == nil || !strings.Contains(err.Error(), "--usage_source") {
		t.Fatalf("New with --usage_source=perf: %v", err)
	}
}

func TestMaterialChange(t *testing.T) {
	base := gossip.Usage{CPUsMilli: 1000, MemMB: 2048, NetRxBps: 1 << 20, NetTxBps: 1 << 20}
	for _, c := range []struct {
		name string
		cur  gossip.Usage
		want bool
	}{
		{"same", base, false},
		{"cpu noise", gossip.Usage{CPUsMilli: 1040, MemMB: 2048, NetRxBps: 1 << 20, NetTxBps: 1 << 20}, false},
		{"cpu +20%", gossip.Usage{CPUsMilli: 1200, MemMB: 2048, NetRxBps: 1 << 20, NetTxBps: 1 << 20}, true},
		{"mem +100MB of 2GB", gossip.Usage{CPUsMilli: 1000, MemMB: 2148, NetRxBps: 1 << 20, NetTxBps: 1 << 20}, false},
		{"mem +1GB", gossip.Usage{CPUsMilli: 1000, MemMB: 3072, NetRxBps: 1 << 20, NetTxBps: 1 << 20}, true},
		{"tx stops", gossip.Usage{CPUsMilli: 1000, MemMB: 2048, NetRxBps: 1 << 20}, true},
	} {
		if got := materialChange(base, c.cur); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Small absolute moves never count, however large relatively.
	if materialChange(gossip.Usage{CPUsMilli: 1}, gossip.Usage{CPUsMilli: 30}) {
		t.Error("30 millicpus counted as material")
	}
}

func TestMeasuredRepublishIsSpacedOut(t *testing.T) {
	u := &usageMonitor{store: usage.NewStore(0)}
	now := time.Now()
	u.notePublished(gossip.Usage{CPUsMilli: 4000}, now)
	if u.measuredChanged(now.Add(time.Second)) {
		t.Fatal("republish asked 1 s after the last record")
	}
	if !u.measuredChanged(now.Add(minRepublish)) {
		t.Fatal("usage fell from 4 cpus to none and no republish was asked")
	}
}

func TestMiB(t *testing.T) {
	for b, want := range map[uint64]string{64 << 20: "64 MiB", 211077120: "201.3 MiB", 0: "0 MiB"} {
		if got := mib(b); got != want {
			t.Errorf("mib(%d) = %q, want %q", b, got, want)
		}
	}
}

// TestUsageSourceWithoutEBPF plays a kernel that refuses tp_btf programs:
// "auto" falls back to cgroup counters and says why, "ebpf" refuses to
// start naming the program type, "cgroups" never tries.
func TestUsageSourceWithoutEBPF(t *testing.T) {
	orig := attachMeters
	t.Cleanup(func() { attachMeters = orig })
	tried := 0
	attachMeters = func(*slog.Logger) (*meters, error) {
		tried++
		return nil, fmt.Errorf("open cpu meter: %w", &bpf.MissingError{Feature: bpf.TracingPrograms, Err: syscall.EPERM})
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	ctr := fake.New()

	u, err := openUsage(UsageSourceAuto, ctr, false, log)
	if err != nil || u.source != UsageSourceCgroups || u.meters != nil {
		t.Fatalf("auto: %v, %+v", err, u)
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "tp_btf programs") {
		t.Fatalf("auto fell back without a warning naming the program type: %s", logged.String())
	}
	_, err = openUsage(UsageSourceEBPF, ctr, false, log)
	if err == nil || !strings.Contains(err.Error(), "--usage_source=ebpf") || !strings.Contains(err.Error(), "tp_btf programs (BPF_PROG_TYPE_TRACING)") {
		t.Fatalf("ebpf: %v", err)
	}
	if f, missing := bpf.IsMissing(err); !missing || f != bpf.TracingPrograms {
		t.Fatalf("ebpf error does not say which feature is missing: %v", err)
	}
	tried = 0
	if u, err := openUsage(UsageSourceCgroups, ctr, false, log); err != nil || u.source != UsageSourceCgroups || tried != 0 {
		t.Fatalf("cgroups: %v, %+v, meters tried %d times", err, u, tried)
	}
}

// TestStatisticsEncoding: the hand-written /monitor/statistics body is what
// encoding/json makes of the entries.
func TestStatisticsEncoding(t *testing.T) {
	for _, ebpf := range []bool{false, true} {
		a := benchUsageAgent(3, ebpf)
		views := a.running()
		views[1].ExecutorName = `Command Executor (Task: "x" <y>)`
		entries := make([]monitorEntry, len(views))
		for i, v := range views {
			entries[i] = monitorEntry{ExecutorID: string(v.ExecutorID), ExecutorName: v.ExecutorName, FrameworkID: string(v.FrameworkID),
				Source: string(v.TaskID), ContainerID: string(v.Container), Statistics: v.Latest.Statistics()}
		}
		want, err := json.Marshal(entries)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeStatistics(nil, views); string(got) != string(want)+"\n" {
			t.Fatalf("ebpf %v:\n got %s\nwant %s", ebpf, got, want)
		}
	}
	if got := encodeStatistics(nil, nil); string(got) != "[]\n" {
		t.Fatalf("no containers: %q", got)
	}
}
