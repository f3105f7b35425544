package agent

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/mem"
	bpfnet "github.com/cairnhq/cairn/bpf/net"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// requireMeters skips (or fails under CAIRN_REQUIRE_KERNEL=1) when the
// kernel lacks what the eBPF meters need, and fails when probing fails for
// another reason.
func requireMeters(t testing.TB) {
	t.Helper()
	kerneltest.Root(t)
	var needs []bpf.Feature
	needs = append(append(append(needs, cpu.Needs...), bpfnet.Needs...), mem.Needs...)
	err := bpf.Require(needs...)
	if _, missing := bpf.IsMissing(err); err != nil && !missing {
		t.Fatalf("probe eBPF features: %v", err)
	}
	kerneltest.Feature(t, "the eBPF meters' features", func() error { return err })
}

// usageTask is a custom-executor task: cpus and mem for the task, plus the
// executor's 0.1 cpus and 32 MB.
func usageTask(id, cpus, memMB, script string) *mesospb.TaskInfo {
	t := customExecutorTask(id, "e-"+id, script)
	t.Resources = resources.MustParse("cpus:" + cpus + ";mem:" + memMB).ToProto("")
	return t
}

// statsOf returns the /monitor/statistics entry of an executor.
func statsOf(t *testing.T, ta *testAgent, exec string) (monitorEntry, map[string]any, bool) {
	t.Helper()
	code, body := ta.raw(t, rawCase{method: "GET", path: "/monitor/statistics"})
	if code != 200 {
		t.Fatalf("/monitor/statistics: %d %s", code, body)
	}
	var typed []monitorEntry
	var raw []struct {
		ExecutorID string         `json:"executor_id"`
		Statistics map[string]any `json:"statistics"`
	}
	if err := json.Unmarshal([]byte(body), &typed); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(body), &raw)
	for i, e := range typed {
		if e.ExecutorID == exec {
			return e, raw[i].Statistics, true
		}
	}
	return monitorEntry{}, nil, false
}

// cgroupCPUTime reads the container's CPU time from its own v2 cgroup
// (cpu.stat usage_usec, present in every v2 cgroup, hybrid hosts too): the
// ground truth the eBPF figure is checked against.
func cgroupCPUTime(t *testing.T, a *Agent, c ids.ContainerID) float64 {
	t.Helper()
	paths, err := a.ctr.(cgroupPather).CgroupPaths(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(paths[""], "cpu.stat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return float64(us) / 1e6
		}
	}
	t.Fatalf("no usage_usec in %s", b)
	return 0
}

func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// TestKernelUsageMeters runs a real agent with the eBPF meters: a task
// limited to 0.5 cpus spins for 2 s of wall time, then holds 200 MB in
// tail's buffers. /monitor/statistics must show its on-CPU time within 5 %
// of what its cgroup counted, throttling, and its peak RSS within 5 % of
// the 200 MB it holds; an OOM-killed task's kill is counted and explained.
func TestKernelUsageMeters(t *testing.T) {
	requireMeters(t)
	a, ta := kernelAgent(t, "cusg", func(c *Config) {
		c.UsageSource = UsageSourceEBPF
	})
	if a.usageSource() != UsageSourceEBPF {
		t.Fatalf("usage source %q", a.usageSource())
	}

	const held = 200_000_000
	ta.run(t, usageTask("spin", "0.4", "400",
		"timeout 2 sh -c 'while :; do :; done'; (head -c "+strconv.Itoa(held)+" /dev/zero; sleep 300) | tail"))
	var entry monitorEntry
	var raw map[string]any
	var prevCPU, prevTime float64
	eventually(t, "the spin to end and 200 MB to be held", func() bool {
		e, r, ok := statsOf(t, ta, "e-spin")
		if !ok || e.Statistics.CPUsOnCPUTimeSecs == nil || e.Statistics.Timestamp == prevTime {
			return false // compare distinct samples only
		}
		cur := *e.Statistics.CPUsOnCPUTimeSecs
		settled := cur > 0.5 && cur-prevCPU < 0.005 && e.Statistics.MemRSSPeakBytes >= held*95/100
		prevCPU, prevTime, entry, raw = cur, e.Statistics.Timestamp, e, r
		return settled
	})
	st := entry.Statistics
	truth := cgroupCPUTime(t, a, ids.ContainerID(entry.ContainerID))
	t.Logf("on-CPU %.3f s (eBPF) vs %.3f s (cgroup cpu.stat); cgroup user+system %.2f s; throttled %d of %d periods, %.2f s",
		*st.CPUsOnCPUTimeSecs, truth, st.CPUsUserTimeSecs+st.CPUsSystemTimeSecs, st.CPUsNrThrottled, st.CPUsNrPeriods, st.CPUsThrottledTimeSecs)
	t.Logf("RSS peak %d (%.2f%% off %d held), cgroup rss %d, run-queue delay total %.4f s",
		st.MemRSSPeakBytes, 100*(float64(st.MemRSSPeakBytes)/held-1), held, st.MemRSSBytes, *st.CPUsRunqueueDelayTotalSecs)
	// bpf/cpu holds the meter to 3 % of a lone spinner's cpu.stat (it
	// measures within 0.1 %). Here several processes start, spin throttled,
	// pipe 200 MB and exit, on a machine that may run other tests: the meter
	// has read 0.1–2 % low on a quiet machine and 3.3 % low once in CI, as
	// the odd switch-out the kernel does not trace leaves a slice uncounted.
	// This test checks the agent's plumbing with room for that.
	if !within(*st.CPUsOnCPUTimeSecs, truth, 0.05) {
		t.Errorf("eBPF on-CPU %.3f s, cgroup %.3f s: more than 5 %% apart", *st.CPUsOnCPUTimeSecs, truth)
	}
	if st.CPUsNrThrottled == 0 || st.CPUsThrottledTimeSecs == 0 || st.CPUsLimit != 0.5 {
		t.Errorf("a task limited to 0.5 cpus that spun 2 s: throttled %d periods, %.3f s, limit %v", st.CPUsNrThrottled, st.CPUsThrottledTimeSecs, st.CPUsLimit)
	}
	if !within(float64(st.MemRSSPeakBytes), held, 0.05) || !within(float64(st.MemRSSBytes), held, 0.05) {
		t.Errorf("RSS peak %d and cgroup RSS %d, want within 5 %% of %d", st.MemRSSPeakBytes, st.MemRSSBytes, held)
	}
	for _, k := range []string{"cpus_user_time_secs", "cpus_nr_periods", "mem_total_bytes", "mem_limit_bytes", "net_rx_bytes", "net_tx_packets",
		"cpus_oncpu_time_secs", "cpus_runqueue_delay_p50_secs", "cpus_runqueue_delay_p99_secs", "cpus_runqueue_delay_total_secs", "mem_rss_peak_bytes", "mem_oom_kills"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("statistics lack %s: %v", k, raw)
		}
	}
	code, body := ta.raw(t, rawCase{method: "GET", path: "/metrics"})
	if code != 200 || !strings.Contains(body, `cairn_agent_usage_source{source="ebpf"} 1`) ||
		!strings.Contains(body, `cairn_task_cpu_oncpu_seconds_total{executor_id="e-spin",framework_id="fw1",task_id="spin"}`) {
		t.Errorf("/metrics: %d %s", code, body)
	}

	// A task that blows a 48 MB limit after its first sample.
	ta.run(t, usageTask("oom", "0.1", "16", "sleep 1.5; head -c 400000000 /dev/zero | tail"))
	u := ta.master.next(t)
	expectUpdate(t, u, "oom", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY {
		t.Fatalf("status %v", u.GetStatus())
	}
	ta.ack(t, u) // the container is destroyed once its update is acknowledged
	var hist historyReply
	eventually(t, "the OOM kill in the task's history", func() bool {
		code, body := ta.raw(t, rawCase{method: "GET", path: "/monitor/history?task_id=oom"})
		if code != 200 {
			return false
		}
		json.Unmarshal([]byte(body), &hist)
		return len(hist.Samples) > 0 && hist.Samples[len(hist.Samples)-1].MemOOMKills > 0
	})
	msg := a.oomMessage(ids.ContainerID(hist.ContainerID))
	t.Logf("OOM message: %s", msg)
	if !strings.HasPrefix(msg, "Memory limit exceeded: peak RSS ") || !strings.HasSuffix(msg, " of 48 MiB limit") {
		t.Errorf("OOM message %q", msg)
	}
}

// TestKernelUsageAcrossRestart: a checkpointing framework's task keeps
// running while the agent restarts; the new agent attaches its own meters,
// and the task's on-CPU time carries on from what its cgroup counted
// (within 3 %) instead of starting again from zero, under the same
// container.
func TestKernelUsageAcrossRestart(t *testing.T) {
	requireMeters(t)
	root := kerneltest.Name("cusr")
	cleanCgroupsRoot(t, root)
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.CgroupsRoot = root
	cfg.RuntimeDir = t.TempDir()
	cfg.UsageSource = UsageSourceEBPF
	cfg.ExecutorReregistrationTimeout = 10 * time.Second
	cfg.StatusUpdateRetryMin, cfg.StatusUpdateRetryMax = time.Minute, time.Minute
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExecutorBinary = exe
	start := func() *testAgent {
		a, err := New(cfg, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		ta := runAgent(t, a, m)
		cfg.Port = int(a.Addr().Port())
		ta.register(t, "m1-S1")
		t.Cleanup(a.KillAllOnStop)
		return ta
	}
	// settled waits for the spinner's CPU time to stop growing and returns
	// its entry.
	settled := func(ta *testAgent) monitorEntry {
		var e monitorEntry
		prev, prevTime := -1.0, 0.0
		eventually(t, "the spin to end", func() bool {
			cur, _, ok := statsOf(t, ta, "spinner")
			if !ok || cur.Statistics.CPUsOnCPUTimeSecs == nil || cur.Statistics.Timestamp == prevTime {
				return false // compare distinct samples only
			}
			v := *cur.Statistics.CPUsOnCPUTimeSecs
			done := v > 0.3 && v-prev < 0.005
			prev, prevTime, e = v, cur.Statistics.Timestamp, cur
			return done
		})
		return e
	}

	a := start()
	spinner := commandTask("spinner", "cpus:0.5;mem:32")
	spinner.Command.Value = proto.String("timeout 1.5 sh -c 'while :; do :; done'; sleep 600")
	a.runFor(t, checkpointing(), spinner)
	for {
		u := a.master.next(t)
		a.ack(t, u)
		if u.GetStatus().GetState() == mesospb.TaskState_TASK_RUNNING {
			break
		}
	}
	before := settled(a)
	a.stop()

	b := start()
	after := settled(b)
	truth := cgroupCPUTime(t, b.Agent, ids.ContainerID(after.ContainerID))
	t.Logf("on-CPU before the restart %.3f s, after %.3f s; cgroup %.3f s", *before.Statistics.CPUsOnCPUTimeSecs, *after.Statistics.CPUsOnCPUTimeSecs, truth)
	if after.ContainerID != before.ContainerID || after.Source != "spinner" {
		t.Fatalf("after the restart: %+v, before %+v", after, before)
	}
	if *after.Statistics.CPUsOnCPUTimeSecs < *before.Statistics.CPUsOnCPUTimeSecs {
		t.Errorf("on-CPU went back from %.3f s to %.3f s across the restart", *before.Statistics.CPUsOnCPUTimeSecs, *after.Statistics.CPUsOnCPUTimeSecs)
	}
	if !within(*after.Statistics.CPUsOnCPUTimeSecs, truth, 0.03) {
		t.Errorf("on-CPU %.3f s after the restart, the cgroup counted %.3f s", *after.Statistics.CPUsOnCPUTimeSecs, truth)
	}
	code, body := b.raw(t, rawCase{method: "GET", path: "/monitor/history?task_id=spinner"})
	if code != 200 || !strings.Contains(body, `"container_id":"`+after.ContainerID+`"`) {
		t.Errorf("history after the restart: %d %s", code, body)
	}
}
