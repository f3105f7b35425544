package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/test/cluster"
)

// faultIterations is how many times the agent is killed; issue 7 asks for
// at least 50.
const faultIterations = 50

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
// on one cluster, a checkpointing framework launches a few tasks, the agent
// is killed -9 a random 0-300 ms after the ACCEPT was answered (somewhere
// in the launch, the checkpointing, the container start or the status
// updates) and started again on the same work dir, faultIterations times.
// Each launched task must reach exactly one terminal state through a
// reliable update the framework acknowledges: the task's real outcome, or
// a loss the framework is told of (TASK_LOST, TASK_DROPPED, TASK_FAILED
// from the agent) — never silence, never two different ends, never an end
// followed by more. The seed is CAIRN_E2E_SEED when set, else the clock;
// it is logged.
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

	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	agent := e.startAgent("agent1", 1, masterAddr, "--hostname=node1", "--resources=cpus:8;mem:4096;disk:1024")
	e.waitAgents(0, 1)
	l := &faultLauncher{launched: make(chan launchRecord, 1)}
	fw := startFailoverFramework(t, masterAddr, "e2e-faults", l.policy)

	start := time.Now()
	var all []string
	delays := map[string]time.Duration{}
	for i := range faultIterations {
		var ids []string
		for _, k := range faultKinds {
			ids = append(ids, fmt.Sprintf("fi-%02d-%s", i, k.name))
		}
		delay := time.Duration(rng.IntN(301)) * time.Millisecond
		iterStart := time.Now()
		rec := l.launch(t, fw, ids)
		if rec.err != nil {
			t.Fatalf("iteration %d: launch: %v", i, rec.err)
		}
		all = append(all, ids...)
		for _, id := range ids {
			delays[id] = delay
		}

		time.Sleep(time.Until(rec.at.Add(delay)))
		if err := agent.proc.Kill(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-agent.proc.Done()
		killedAt := time.Now()
		e.restart(agent, fmt.Sprintf("agent1-run%02d", i+1))
		if err := waitLog(agent.proc, "agent recovered", startTimeout); err != nil {
			t.Fatalf("iteration %d: %v\nsockets on the agent's node:\n%s", i, err, sockets(agent.node))
		}
		recoveredAt := time.Now()
		waitTerminal(t, fw, agent, i, ids)
		t.Logf("iteration %d: kill %v after ACCEPT; launch %v, recovered %v after the kill, all ended %v after it",
			i, delay, rec.at.Sub(iterStart).Round(time.Millisecond), recoveredAt.Sub(killedAt).Round(time.Millisecond),
			time.Since(killedAt).Round(time.Millisecond))
	}
	took := time.Since(start)

	// The whole history of every task.
	byTask := updatesByTask(fw)
	outcomes := map[string]int{}
	for _, id := range all {
		hs := byTask[id]
		terminal, uuid, problems := taskHistory(hs)
		for _, p := range problems {
			t.Errorf("task %s (killed %v after ACCEPT): %s; history: %s", id, delays[id], p, describe(hs))
		}
		switch {
		case terminal == mesospb.TaskState_TASK_STAGING:
			t.Errorf("task %s (killed %v after ACCEPT) never ended; history: %s", id, delays[id], describe(hs))
			continue
		case uuid == nil:
			t.Errorf("task %s (killed %v after ACCEPT) ended %s only in reconciliation answers, never in a reliable update; history: %s",
				id, delays[id], terminal, describe(hs))
			continue
		}
		end := terminalUpdate(hs, uuid)
		kind := id[len("fi-00-"):]
		if msg := faultOutcomeProblem(kind, end); msg != "" {
			t.Errorf("task %s (killed %v after ACCEPT): %s; history: %s", id, delays[id], msg, describe(hs))
		}
		outcomes[kind+" "+outcomeName(end)]++
	}
	fw.checkAcks()

	// The master agrees that nothing of it still runs, and the agent keeps
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
	killAndDrain(t, fw, agent, nil)

	keys := sortedKeys(outcomes)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, outcomes[k])
	}
	t.Logf("%d iterations, %d tasks in %v (%v per kill and recovery); outcomes: %s",
		faultIterations, len(all), took.Round(time.Millisecond), (took / faultIterations).Round(time.Millisecond),
		strings.Join(parts, ", "))
}

// waitTerminal waits until every task of ids has a terminal update, asking
// the master to reconcile them every second meanwhile. It fails the test
// when one has not ended a minute after the others stopped making progress.
func waitTerminal(t *testing.T, fw *framework, agent *daemon, iteration int, ids []string) {
	t.Helper()
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
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, id := range open {
				fmt.Fprintf(&b, "\n  %s: %s", id, describe(byTask[id]))
			}
			t.Fatalf("iteration %d: %d tasks not terminal 90 s after the kill, despite reconciliation:%s\nagent log:\n%s",
				iteration, len(open), b.String(), agent.proc.Log())
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

// faultLauncher launches the tasks the test asks for on the next offer and
// declines every other offer for an hour; the test revives offers when it
// wants a launch.
type faultLauncher struct {
	mu       sync.Mutex
	pending  []string // task ids, in faultKinds order
	launched chan launchRecord
}

// launchRecord is when an ACCEPT was answered, and how.
type launchRecord struct {
	at  time.Time
	err error
}

// launch asks for ids to be launched and waits until the ACCEPT was
// answered, reviving offers every two seconds (the agent may not be
// admitted again yet).
func (l *faultLauncher) launch(t *testing.T, fw *framework, ids []string) launchRecord {
	t.Helper()
	l.mu.Lock()
	l.pending = ids
	l.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := fw.client.Revive(ctx)
		cancel()
		if err != nil {
			t.Logf("revive: %v", err)
		}
		select {
		case rec := <-l.launched:
			return rec
		case <-time.After(2 * time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no offer to launch %v within %v", ids, startTimeout)
		}
	}
}

func (l *faultLauncher) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	l.mu.Lock()
	ids := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(ids) == 0 {
		return fw.client.Decline(ctx, offerIDs(offers), refuse(3600))
	}
	o := offers[0]
	var tasks []*mesospb.TaskInfo
	for i, id := range ids {
		tasks = append(tasks, commandTask(id, o, 0.1, 16, faultKinds[i].cmd))
	}
	err := fw.client.Launch(ctx, offerIDs(offers[:1]), tasks, refuse(3600))
	l.launched <- launchRecord{at: time.Now(), err: err}
	if len(offers) > 1 {
		return fw.client.Decline(ctx, offerIDs(offers[1:]), refuse(3600))
	}
	return nil
}

// sockets lists the TCP sockets of a node's namespace with their
// processes, for a daemon that could not bind its port.
func sockets(n *cluster.Node) string {
	out, err := exec.Command("nsenter", "--net="+n.Netns, "--", "ss", "-tanp").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ss: %v: %s", err, out)
	}
	return string(out)
}
