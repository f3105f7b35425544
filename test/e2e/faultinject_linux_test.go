package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
)

// faultIterations is how many times an agent is killed in all; issue 7
// asks for at least 50. They are shared among faultAgents agents killed
// independently of each other: the master re-admits an agent that restarts
// within 5 s of its admission only when that grace ends (readmitGrace in
// master/agents.go), so one agent alone would take over four minutes.
const (
	faultIterations = 50
	faultAgents     = 3
)

// faultKinds are the tasks launched in every iteration: one that finishes
// at once, one that fails at once, one that outlives most kills.
var faultKinds = []struct {
	name, cmd string
	code      int
}{
	{"true", "true", 0},
	{"exit3", "exit 3", 3},
	{"sleep1", "sleep 1", 0},
}

// TestFaultInjectionLaunchAndUpdates is issue 7's third acceptance test:
// on one cluster, a checkpointing framework launches a few tasks on an
// agent, the agent is killed -9 a random 0-300 ms after the ACCEPT was
// answered (somewhere in the launch, the checkpointing, the container start
// or the status updates) and started again on the same work dir; this is
// repeated faultIterations times, spread over faultAgents agents, each with
// a framework of its own. Each launched task must reach exactly one
// terminal state through a reliable update the framework acknowledges: the
// task's real outcome, or a loss the framework is told of (TASK_LOST,
// TASK_DROPPED, TASK_FAILED from the agent) — never silence, never two
// different ends, never an end followed by more. The seed is CAIRN_E2E_SEED
// when set, else the clock; it is logged.
func TestFaultInjectionLaunchAndUpdates(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_E2E_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (CAIRN_E2E_SEED=%d reproduces the kill delays)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	e := newEnv(t, 1+faultAgents)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	var workers []*faultWorker
	for a := 1; a <= faultAgents; a++ {
		w := &faultWorker{name: fmt.Sprintf("agent%d", a), host: fmt.Sprintf("node%d", a), delayOf: map[string]time.Duration{}}
		w.agent = e.startAgent(w.name, a, masterAddr, "--hostname="+w.host, "--resources=cpus:4;mem:2048;disk:1024")
		workers = append(workers, w)
	}
	for i := range faultIterations {
		w := workers[i%faultAgents]
		w.delays = append(w.delays, time.Duration(rng.IntN(301))*time.Millisecond)
	}
	e.waitAgents(0, faultAgents)
	for _, w := range workers {
		w.launcher = &faultLauncher{host: w.host, launched: make(chan launchRecord, 1)}
		w.fw = startFailoverFramework(t, masterAddr, "e2e-faults-"+w.host, w.launcher.policy)
	}

	// One goroutine per agent (parallel subtests would be capped at
	// GOMAXPROCS); failures come back as errors to this goroutine.
	start := time.Now()
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { errs[i] = w.run(t, e) })
	}
	wg.Wait()
	took := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", workers[i].name, err)
		}
	}

	// The whole history of every task.
	outcomes := map[string]int{}
	losses := map[string]int{}  // messages of ends the executor did not report
	byDelay := map[string]int{} // outcomes by when the agent was killed
	total := 0
	for _, w := range workers {
		byTask := updatesByTask(w.fw)
		for _, id := range w.ids {
			total++
			hs := byTask[id]
			terminal, uuid, problems := taskHistory(hs)
			for _, p := range problems {
				t.Errorf("task %s (killed %v after ACCEPT): %s; history: %s", id, w.delayOf[id], p, describe(hs))
			}
			switch {
			case terminal == mesospb.TaskState_TASK_STAGING:
				t.Errorf("task %s (killed %v after ACCEPT) never ended; history: %s", id, w.delayOf[id], describe(hs))
				continue
			case uuid == nil:
				t.Errorf("task %s (killed %v after ACCEPT) ended %s only in reconciliation answers, never in a reliable update; history: %s",
					id, w.delayOf[id], terminal, describe(hs))
				continue
			}
			end := terminalUpdate(hs, uuid)
			kind := id[strings.LastIndex(id, "-")+1:]
			if msg := faultOutcomeProblem(kind, end); msg != "" {
				t.Errorf("task %s (killed %v after ACCEPT): %s; history: %s", id, w.delayOf[id], msg, describe(hs))
			}
			outcomes[kind+" "+outcomeName(end)]++
			bucket := w.delayOf[id] / (100 * time.Millisecond) * (100 * time.Millisecond)
			byDelay[fmt.Sprintf("killed %v-%v after ACCEPT: %s", bucket, bucket+100*time.Millisecond, outcomeName(end))]++
			if end.GetSource() != mesospb.TaskStatus_SOURCE_EXECUTOR {
				seen := "never reported running"
				if reliableUUIDs(hs, mesospb.TaskState_TASK_RUNNING) > 0 {
					seen = "after TASK_RUNNING"
				}
				losses[fmt.Sprintf("%s %s %q (%s)", end.GetState(), end.GetReason(), end.GetMessage(), seen)]++
			}
		}
		w.fw.checkAcks()
	}

	// The master agrees that nothing of it still runs, and the agents keep
	// no container of it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tasks, err := e.operator(0).Tasks(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks.GetTasks() {
		if strings.HasPrefix(task.GetTaskId().GetValue(), "fi-") && !task.GetState().Terminal() {
			t.Errorf("master: task %s is still %s", task.GetTaskId().GetValue(), task.GetState())
		}
	}
	for _, w := range workers {
		killAndDrain(t, w.fw, w.agent, nil)
	}

	keys := sortedKeys(outcomes)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, outcomes[k])
	}
	t.Logf("%d kills of %d agents, %d tasks, in %v; outcomes: %s",
		faultIterations, faultAgents, total, took.Round(time.Millisecond), strings.Join(parts, ", "))
	for _, k := range sortedKeys(losses) {
		t.Logf("%d tasks ended %s", losses[k], k)
	}
	for _, k := range sortedKeys(byDelay) {
		t.Logf("%s: %d", k, byDelay[k])
	}
}

// waitTerminal waits until every task of ids has a terminal update, asking
// the master to reconcile them every second meanwhile. It gives up after
// 90 s. Any goroutine may call it.
func waitTerminal(t *testing.T, fw *framework, agent *daemon, ids []string) error {
	var lastAsk time.Time
	deadline := time.Now().Add(90 * time.Second)
	for {
		byTask := updatesByTask(fw)
		var open []string
		for _, id := range ids {
			if terminal, _, _ := taskHistory(byTask[id]); terminal == mesospb.TaskState_TASK_STAGING {
				open = append(open, id)
			}
		}
		if len(open) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, id := range open {
				fmt.Fprintf(&b, "\n  %s: %s", id, describe(byTask[id]))
			}
			return fmt.Errorf("%d tasks not terminal 90 s after the kill, despite reconciliation:%s\nagent log:\n%s",
				len(open), b.String(), agent.proc.Log())
		}
		if fw.client.Connected() && time.Since(lastAsk) > time.Second {
			lastAsk = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := reconcileTasks(ctx, fw, nil, open); err != nil {
				t.Logf("reconcile: %v", err)
			}
			cancel()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// terminalUpdate is the reliable update with uuid.
func terminalUpdate(hs []heard, uuid []byte) *mesospb.TaskStatus {
	for _, h := range hs {
		if string(h.status.GetUuid()) == string(uuid) {
			return h.status
		}
	}
	return nil
}

// faultOutcomeProblem checks a task's end against its command: an end the
// executor reported must be the command's real outcome; any other end must
// be a loss the master or agent declares.
func faultOutcomeProblem(kind string, st *mesospb.TaskStatus) string {
	code := -1
	for _, k := range faultKinds {
		if k.name == kind {
			code = k.code
		}
	}
	s := st.GetState()
	if st.GetSource() == mesospb.TaskStatus_SOURCE_EXECUTOR {
		want := gatedOutcome(code)
		if s != want || !strings.Contains(st.GetMessage(), fmt.Sprintf("status %d", code)) {
			return fmt.Sprintf("the executor reported %s %q, want %s with exit status %d", s, st.GetMessage(), want, code)
		}
		return ""
	}
	switch s {
	case mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_DROPPED, mesospb.TaskState_TASK_FAILED,
		mesospb.TaskState_TASK_GONE:
		return ""
	}
	return fmt.Sprintf("ended %s from %s, neither its outcome nor a loss", s, st.GetSource())
}

// outcomeName names an end for the tally: the state, and for an end the
// executor did not report, who reported it and why.
func outcomeName(st *mesospb.TaskStatus) string {
	if st.GetSource() == mesospb.TaskStatus_SOURCE_EXECUTOR {
		return strings.TrimPrefix(st.GetState().String(), "TASK_")
	}
	return fmt.Sprintf("%s(%s,%s)", strings.TrimPrefix(st.GetState().String(), "TASK_"),
		strings.TrimPrefix(st.GetSource().String(), "SOURCE_"), strings.TrimPrefix(st.GetReason().String(), "REASON_"))
}
