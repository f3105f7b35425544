package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/scheduler"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestAgentKill9KeepsTasks is issue 7's first acceptance test: 50 running
// tasks of a checkpointing framework survive a kill -9 of their agent and
// its restart; they are still RUNNING afterwards (for the framework and
// the master), no update is lost or doubled, and tasks that finished while
// no agent ran are reported with their real outcome: FINISHED for exit 0,
// FAILED with the exit status otherwise. It logs the recovery time.
func TestAgentKill9KeepsTasks(t *testing.T) {
	const sleepers = 50
	exits := []int{0, 0, 3}
	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	agent := e.startAgent("agent1", 1, masterAddr, "--hostname=node1", "--resources=cpus:32;mem:16384;disk:1024")
	e.waitAgents(0, 1)

	b := &gatedBatch{sleepers: sleepers, exits: exits}
	fw := startCheckpointingFramework(t, masterAddr, "e2e-recovery", b.policy)
	waitRunning(t, fw, sleepers+len(exits))
	agentID := fw.statuses()[b.sleeperID(0)].GetAgentId().GetValue()

	killed := time.Now()
	if err := agent.proc.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-agent.proc.Done()
	// The gated tasks end while no agent runs (they poll every 100 ms):
	// their executors keep the terminal updates until one comes back.
	for i := range exits {
		sandbox := filepath.Join(e.dir, "agent1", "slaves", agentID, "frameworks", fw.client.FrameworkID(),
			"executors", b.gatedID(i), "runs", "latest")
		if err := os.WriteFile(filepath.Join(sandbox, "go"), nil, 0o644); err != nil {
			t.Fatalf("release gated task %d: %v", i, err)
		}
	}
	time.Sleep(500 * time.Millisecond)

	// The same command line again: same work dir, runtime dir, cgroups
	// root, address and port (executors reconnect to it).
	again := &daemon{name: "agent1-restarted", node: agent.node, argv: agent.argv, runtimeDir: agent.runtimeDir}
	restarted := time.Now()
	again.proc = again.node.Start(again.name, again.argv, nil)
	// Runs before agent1's cleanup, which finds agent1 killed and starts
	// it once more to destroy leftovers: by then nothing may be left.
	t.Cleanup(func() {
		if code, clean := again.stop(); !clean {
			t.Errorf("restarted agent ended with %d, not by SIGTERM", code)
		}
	})
	if err := waitLog(again.proc, "agent recovered", startTimeout); err != nil {
		t.Fatal(err)
	}
	recovered := time.Now()
	took := loggedDuration(t, again.proc.Log(), "agent recovered")

	// The finished tasks' real outcomes arrive.
	var reported time.Time
	cluster.Eventually(t, startTimeout, func() error {
		sts := fw.statuses()
		for i, code := range exits {
			want := mesospb.TaskState_TASK_FINISHED
			if code != 0 {
				want = mesospb.TaskState_TASK_FAILED
			}
			st := sts[b.gatedID(i)]
			if st.GetState() != want {
				return fmt.Errorf("gated task %d is %s (%s), want %s", i, st.GetState(), st.GetMessage(), want)
			}
			if !strings.Contains(st.GetMessage(), fmt.Sprintf("status %d", code)) {
				t.Fatalf("gated task %d ended %s with message %q, want its exit status %d", i, st.GetState(), st.GetMessage(), code)
			}
		}
		for _, r := range fw.received(schedulerpb.Event_UPDATE) {
			reported = later(reported, r.at)
		}
		return nil
	})
	t.Logf("recovery: agent down %v; the restarted agent had every executor back %v after it was started "+
		"(its own measure from reading the checkpoints: %v); the last update of the tasks that ended while it was down "+
		"reached the framework %v after the restart",
		restarted.Sub(killed).Round(time.Millisecond), recovered.Sub(restarted).Round(time.Millisecond),
		took, reported.Sub(restarted).Round(time.Millisecond))

	// Every sleeper still runs, for the framework and for the master.
	sts := fw.statuses()
	for i := range sleepers {
		if st := sts[b.sleeperID(i)]; st.GetState() != mesospb.TaskState_TASK_RUNNING {
			t.Errorf("task %s is %s after the restart (%s, %s)", b.sleeperID(i), st.GetState(), st.GetReason(), st.GetMessage())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tasks, err := e.operator(0).Tasks(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, task := range tasks.GetTasks() {
		if strings.HasPrefix(task.GetTaskId().GetValue(), "sleeper-") && task.GetState() == mesospb.TaskState_TASK_RUNNING {
			running++
		}
	}
	if running != sleepers {
		t.Errorf("master: %d of %d sleepers TASK_RUNNING", running, sleepers)
	}

	// No update lost or doubled: per task, one uuid per state (resends
	// repeat the uuid), the sleepers never ended, the gated tasks ended once.
	uuids := map[string]map[mesospb.TaskState]map[string]bool{}
	for _, r := range fw.received(schedulerpb.Event_UPDATE) {
		st := r.ev.GetUpdate().GetStatus()
		id := st.GetTaskId().GetValue()
		if uuids[id] == nil {
			uuids[id] = map[mesospb.TaskState]map[string]bool{}
		}
		if uuids[id][st.GetState()] == nil {
			uuids[id][st.GetState()] = map[string]bool{}
		}
		uuids[id][st.GetState()][string(st.GetUuid())] = true
	}
	for id, states := range uuids {
		terminal := 0
		for s, us := range states {
			if len(us) > 1 {
				t.Errorf("task %s reported %s %d times with different uuids", id, s, len(us))
			}
			if s.Terminal() {
				terminal++
			}
		}
		if strings.HasPrefix(id, "sleeper-") && terminal > 0 || strings.HasPrefix(id, "gated-") && terminal != 1 {
			t.Errorf("task %s: %d terminal states (%v)", id, terminal, states)
		}
		if len(states[mesospb.TaskState_TASK_RUNNING]) != 1 {
			t.Errorf("task %s: %d TASK_RUNNING updates, want 1", id, len(states[mesospb.TaskState_TASK_RUNNING]))
		}
	}
	if n := fw.checkAcks(); n == 0 {
		t.Error("no update acknowledged")
	}
	if v := agentMetric(t, e.c.Node(1).Addr(5051), "slave/recovery_errors"); v != 0 {
		t.Errorf("slave/recovery_errors = %v after a kill -9", v)
	}

	// Clean up while the agent runs: the checkpointed executors would
	// otherwise outlive it.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range sleepers {
		st := sts[b.sleeperID(i)]
		if err := fw.client.Kill(ctx, st.GetTaskId(), st.GetAgentId(), nil); err != nil {
			t.Fatalf("kill %s: %v", b.sleeperID(i), err)
		}
	}
	cluster.Eventually(t, startTimeout, func() error {
		if left := containerStates(filepath.Join(again.runtimeDir, "containers")); len(left) > 0 {
			return fmt.Errorf("%d containers left after killing the tasks", len(left))
		}
		return nil
	})
}

// checkpointingInfo is a MULTI_ROLE framework of role "*" with
// FrameworkInfo.checkpoint set.
func checkpointingInfo(name string) *mesospb.FrameworkInfo {
	return &mesospb.FrameworkInfo{
		User:       proto.String("root"),
		Name:       proto.String(name),
		Roles:      []string{"*"},
		Checkpoint: proto.Bool(true),
		Capabilities: []*mesospb.FrameworkInfo_Capability{
			{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()},
		},
	}
}

// startCheckpointingFramework is startFramework for a framework with
// FrameworkInfo.checkpoint set, whose tasks survive agent restarts.
func startCheckpointingFramework(t *testing.T, addr, name string, policy offerPolicy) *framework {
	t.Helper()
	fw := &framework{t: t, policy: policy, latest: map[string]*mesospb.TaskStatus{}}
	fw.client = scheduler.New(scheduler.Config{
		Masters:           []string{addr},
		FrameworkInfo:     checkpointingInfo(name),
		HTTPClient:        cluster.HTTPClient(),
		ManualAcknowledge: true,
	})
	fw.start(t, name, scheduler.HandlerFunc(fw.handle))
	return fw
}

// loggedDuration finds `took=<duration>` on the log line with msg.
func loggedDuration(t *testing.T, log, msg string) time.Duration {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		if m := regexp.MustCompile(`took=(\S+)`).FindStringSubmatch(line); m != nil {
			if d, err := time.ParseDuration(strings.Trim(m[1], `"`)); err == nil {
				return d
			}
		}
	}
	t.Fatalf("no %q line with took= in the log", msg)
	return 0
}

// agentMetric reads one value of the agent's /metrics/snapshot.
func agentMetric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := cluster.HTTPClient().Get("http://" + addr + "/metrics/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics/snapshot: %s", resp.Status)
	}
	var m map[string]float64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[name]
	if !ok {
		t.Fatalf("/metrics/snapshot has no %s", name)
	}
	return v
}
