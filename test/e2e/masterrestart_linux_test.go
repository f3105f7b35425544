package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestAgentAndMasterRestart is issue 7's second acceptance test: the
// master and the agent are killed -9 together under a checkpointing
// framework (failover timeout one hour) with 20 long tasks and a few gated
// ones, the gated tasks end while neither daemon runs, and both daemons are
// started again with the same flags and work dirs. The framework
// re-subscribes with its id and reconciles explicitly: every long task is
// answered RUNNING (and never reported terminal), every gated task is
// reported once with its real outcome (FINISHED for exit 0, FAILED with the
// exit status otherwise), each update the executors made reaches the
// framework (one uuid per state), and the master lists the long tasks
// running. It logs how long after the restart the framework knew all that.
func TestAgentAndMasterRestart(t *testing.T) {
	// together: both started at once. master_first: the agent only after
	// the framework has re-subscribed to the restarted master and
	// reconciled, so the reconciliation finds the master knowing the agent
	// from its registry but none of its tasks yet (Mesos answers nothing
	// then, and the framework asks again later).
	t.Run("together", func(t *testing.T) { testAgentAndMasterRestart(t, false) })
	t.Run("master_first", func(t *testing.T) { testAgentAndMasterRestart(t, true) })
}

func testAgentAndMasterRestart(t *testing.T, masterFirst bool) {
	const sleepers = 20
	exits := []int{0, 3, 0, 7}
	e := newEnv(t, 2)
	master := e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	agent := e.startAgent("agent1", 1, masterAddr, "--hostname=node1", "--resources=cpus:16;mem:8192;disk:1024")
	e.waitAgents(0, 1)

	b := &gatedBatch{sleepers: sleepers, exits: exits}
	fw := startFailoverFramework(t, masterAddr, "e2e-failover", b.policy)
	waitRunning(t, fw, sleepers+len(exits))
	agentID := fw.statuses()[b.sleeperID(0)].GetAgentId()
	fwID := fw.client.FrameworkID()

	killed := time.Now()
	for _, d := range []*daemon{master, agent} {
		if err := d.proc.Kill(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	<-master.proc.Done()
	<-agent.proc.Done()

	// The gated tasks end while neither daemon runs: each writes a file
	// named done in its sandbox just before it exits.
	sandbox := func(i int) string {
		return filepath.Join(e.dir, "agent1", "slaves", agentID.GetValue(), "frameworks", fwID,
			"executors", b.gatedID(i), "runs", "latest")
	}
	for i := range exits {
		if err := os.WriteFile(filepath.Join(sandbox(i), "go"), nil, 0o644); err != nil {
			t.Fatalf("release gated task %d: %v", i, err)
		}
	}
	cluster.Eventually(t, startTimeout, func() error {
		for i := range exits {
			if _, err := os.Stat(filepath.Join(sandbox(i), "done")); err != nil {
				return fmt.Errorf("gated task %d has not ended: %w", i, err)
			}
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // the tasks' shells exit right after

	// Both again, with their own command lines: same work dirs, ports and
	// cgroups root.
	restarted := time.Now()
	e.restart(master, "master-restarted")
	if !masterFirst {
		e.restart(agent, "agent1-restarted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	err := cluster.WaitHTTP(ctx, "http://"+masterAddr+"/health")
	cancel()
	if err != nil {
		t.Fatalf("restarted master not serving: %v\n%s", err, master.proc.Log())
	}
	agentStarted := restarted
	if masterFirst {
		cluster.Eventually(t, startTimeout, func() error {
			if firstSubscribedAfter(fw, restarted) == restarted {
				return fmt.Errorf("framework not re-subscribed")
			}
			return nil
		})
		// Its reconciliation went out on re-subscription; give the
		// answers, if any, time to arrive before the agent is back.
		time.Sleep(time.Second)
		agentStarted = time.Now()
		e.restart(agent, "agent1-restarted")
	}
	if err := waitLog(agent.proc, "agent recovered", startTimeout); err != nil {
		t.Fatal(err)
	}
	agentBack := time.Now()

	// The framework reconciles on re-subscription; the test asks again every
	// half second until every task has its answer, as a framework whose
	// first reconciliation came before the agent was back would.
	var all []string
	for i := range sleepers {
		all = append(all, b.sleeperID(i))
	}
	for i := range exits {
		all = append(all, b.gatedID(i))
	}
	lastAsk := time.Time{}
	var seenAll time.Time
	progress(t, time.Minute, func() (int, error) {
		byTask := updatesByTask(fw)
		done := 0
		var missing []string
		for i := range sleepers {
			if runningSince(byTask[b.sleeperID(i)], agentStarted) {
				done++
			} else {
				missing = append(missing, b.sleeperID(i))
			}
		}
		for i, code := range exits {
			if hasTerminal(byTask[b.gatedID(i)], gatedOutcome(code)) {
				done++
			} else {
				missing = append(missing, b.gatedID(i))
			}
		}
		if len(missing) == 0 {
			seenAll = time.Now()
			return done, nil
		}
		if fw.client.Connected() && time.Since(lastAsk) > 500*time.Millisecond {
			lastAsk = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := reconcileTasks(ctx, fw, agentID, all); err != nil {
				t.Logf("reconcile: %v", err)
			}
			cancel()
		}
		return done, fmt.Errorf("%d of %d tasks not yet reported as expected after the restart: %v", len(missing), len(all), missing)
	})
	resubscribed := firstSubscribedAfter(fw, restarted)
	lastUpdate := restarted
	for _, hs := range updatesByTask(fw) {
		for _, h := range hs {
			if h.at.After(restarted) && h.status.GetState().Terminal() {
				lastUpdate = later(lastUpdate, h.at)
			}
		}
	}
	t.Logf("master and agent restart: both down %v; after the master's restart the framework re-subscribed in %v; "+
		"after the agent's start it had recovered in %v (its own measure: %v), the gated tasks' outcomes arrived within %v, "+
		"and the framework had every answer in %v (reconciliation repeated every 0.5 s)",
		restarted.Sub(killed).Round(time.Millisecond), resubscribed.Sub(restarted).Round(time.Millisecond),
		agentBack.Sub(agentStarted).Round(time.Millisecond), loggedDuration(t, agent.proc.Log(), "agent recovered"),
		lastUpdate.Sub(agentStarted).Round(time.Millisecond), seenAll.Sub(agentStarted).Round(time.Millisecond))

	// The whole history of every task, reconciliation answers included.
	byTask := updatesByTask(fw)
	for _, id := range all {
		hs := byTask[id]
		terminal, _, problems := taskHistory(hs)
		for _, p := range problems {
			t.Errorf("task %s: %s; history: %s", id, p, describe(hs))
		}
		// The executor made one TASK_STARTING and one TASK_RUNNING.
		for _, s := range []mesospb.TaskState{mesospb.TaskState_TASK_STARTING, mesospb.TaskState_TASK_RUNNING} {
			if n := reliableUUIDs(hs, s); n != 1 {
				t.Errorf("task %s: %d %s updates with a uuid, want the executor's one; history: %s", id, n, s, describe(hs))
			}
		}
		if strings.HasPrefix(id, "sleeper-") && terminal != mesospb.TaskState_TASK_STAGING && len(problems) == 0 {
			t.Errorf("long task %s was reported %s; history: %s", id, terminal, describe(hs))
		}
	}
	for i, code := range exits {
		id := b.gatedID(i)
		hs := byTask[id]
		want := gatedOutcome(code)
		if n := reliableUUIDs(hs, want); n != 1 {
			t.Errorf("gated task %s: %d %s updates with a uuid, want 1; history: %s", id, n, want, describe(hs))
		}
		for _, h := range hs {
			if h.reliable() && h.status.GetState() == want {
				if h.status.GetSource() != mesospb.TaskStatus_SOURCE_EXECUTOR ||
					!strings.Contains(h.status.GetMessage(), fmt.Sprintf("status %d", code)) {
					t.Errorf("gated task %s ended %s, want the executor's report of exit status %d", id, h, code)
				}
			}
		}
	}
	fw.checkAcks()
	if v := agentMetric(t, e.c.Node(1).Addr(5051), "slave/recovery_errors"); v != 0 {
		t.Errorf("slave/recovery_errors = %v after a kill -9", v)
	}

	// The restarted master lists the long tasks running.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
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
		t.Errorf("restarted master: %d of %d long tasks TASK_RUNNING", running, sleepers)
	}

	// The long tasks' containers are still there.
	if n := len(containerStates(filepath.Join(agent.runtimeDir, "containers"))); n < sleepers {
		t.Errorf("%d containers after the restart, want at least the %d long tasks'", n, sleepers)
	}

	killAndDrain(t, fw, agent, all)
}

// gatedBatch launches, from the first offer, sleepers `sleep 600` tasks and
// one gated task per exit code, which waits for a file named go in its
// sandbox, writes one named done, and exits with that code. Later offers
// are declined for an hour. The agent and master restart tests share it.
type gatedBatch struct {
	sleepers int
	exits    []int

	mu       sync.Mutex
	launched bool
}

func (b *gatedBatch) sleeperID(i int) string { return fmt.Sprintf("sleeper-%02d", i) }
func (b *gatedBatch) gatedID(i int) string   { return fmt.Sprintf("gated-%d", i) }

func (b *gatedBatch) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	b.mu.Lock()
	first := !b.launched && len(offers) > 0
	b.launched = b.launched || first
	b.mu.Unlock()
	if !first {
		return fw.client.Decline(ctx, offerIDs(offers), refuse(3600))
	}
	o := offers[0]
	var tasks []*mesospb.TaskInfo
	for i := range b.sleepers {
		tasks = append(tasks, commandTask(b.sleeperID(i), o, 0.1, 16, "sleep 600"))
	}
	for i, code := range b.exits {
		tasks = append(tasks, commandTask(b.gatedID(i), o, 0.1, 16,
			fmt.Sprintf("while [ ! -e go ]; do sleep 0.1; done; touch done; exit %d", code)))
	}
	if err := fw.client.Launch(ctx, offerIDs(offers[:1]), tasks, refuse(3600)); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	if len(offers) > 1 {
		return fw.client.Decline(ctx, offerIDs(offers[1:]), refuse(3600))
	}
	return nil
}

// gatedOutcome is the state a command task exiting with code ends in.
func gatedOutcome(code int) mesospb.TaskState {
	if code == 0 {
		return mesospb.TaskState_TASK_FINISHED
	}
	return mesospb.TaskState_TASK_FAILED
}
