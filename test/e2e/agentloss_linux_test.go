package e2e

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/test/cluster"
)

// lossBound is the acceptance criterion: after an agent dies, its
// frameworks learn it (offers rescinded, tasks lost or unreachable) within
// this time.
const lossBound = 10 * time.Second

// TestAgentLossRescindsAndLoses kills -9 one of two agents that run long
// tasks of two frameworks, one of which holds offers of the dying agent.
// Within lossBound the holder gets RESCIND for those offers and TASK_LOST
// for its tasks there; the PARTITION_AWARE framework gets TASK_UNREACHABLE.
// The other agent's tasks are unaffected.
func TestAgentLossRescindsAndLoses(t *testing.T) {
	e := newEnv(t, 3)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	e.startAgent("agent1", 1, masterAddr, "--hostname=node1")
	victim := e.startAgent("agent2", 2, masterAddr, "--hostname=node2")
	e.waitAgents(0, 2)

	// The PARTITION_AWARE framework runs first and then declines everything
	// for an hour, so that the holder below gets all of node2's remainder.
	aware := &sleeper{perAgent: 2, prefix: "aware"}
	fwAware := startFramework(t, masterAddr, "e2e-aware", true, aware.policy)
	waitRunning(t, fwAware, 4)

	holder := &sleeper{perAgent: 2, prefix: "holder", hold: "node2"}
	fwHolder := startFramework(t, masterAddr, "e2e-holder", false, holder.policy)
	waitRunning(t, fwHolder, 4)
	cluster.Eventually(t, startTimeout, func() error {
		if len(holder.heldOffers()) == 0 {
			return fmt.Errorf("no offer of node2 held yet")
		}
		return nil
	})
	held := holder.heldOffers()

	killed := time.Now()
	if err := victim.proc.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	lostTasks := holder.tasksOn("node2")
	unreachableTasks := aware.tasksOn("node2")
	var last time.Time
	cluster.Eventually(t, 2*time.Minute, func() error {
		last = time.Time{}
		rescinded := map[string]time.Time{}
		for _, r := range fwHolder.received(schedulerpb.Event_RESCIND) {
			rescinded[r.ev.GetRescind().GetOfferId().GetValue()] = r.at
		}
		for _, id := range held {
			at, ok := rescinded[id]
			if !ok {
				return fmt.Errorf("offer %s of node2 not rescinded", id)
			}
			last = later(last, at)
		}
		for _, c := range []struct {
			fw    *framework
			tasks []string
			state mesospb.TaskState
		}{
			{fwHolder, lostTasks, mesospb.TaskState_TASK_LOST},
			{fwAware, unreachableTasks, mesospb.TaskState_TASK_UNREACHABLE},
		} {
			at, err := reached(c.fw, c.tasks, c.state)
			if err != nil {
				return err
			}
			last = later(last, at)
		}
		return nil
	})
	took := last.Sub(killed)
	t.Logf("kill -9 of agent2 to the last RESCIND/TASK_LOST/TASK_UNREACHABLE: %v (%d offers rescinded, %d tasks lost, %d unreachable)",
		took.Round(time.Millisecond), len(held), len(lostTasks), len(unreachableTasks))
	if took > lossBound {
		t.Errorf("frameworks learned of agent2's loss after %v, want ≤ %v", took.Round(time.Millisecond), lossBound)
	}

	for _, c := range []struct {
		fw    *framework
		tasks []string
	}{{fwHolder, lostTasks}, {fwAware, unreachableTasks}} {
		sts := c.fw.statuses()
		for _, id := range c.tasks {
			st := sts[id]
			if st.GetReason() != mesospb.TaskStatus_REASON_AGENT_REMOVED || st.GetSource() != mesospb.TaskStatus_SOURCE_MASTER {
				t.Errorf("task %s: %s from %s with %s, want REASON_AGENT_REMOVED from SOURCE_MASTER",
					id, st.GetState(), st.GetSource(), st.GetReason())
			}
		}
	}

	// node1's tasks still run, as the frameworks and the master see them.
	for _, c := range []struct {
		s  *sleeper
		fw *framework
	}{{holder, fwHolder}, {aware, fwAware}} {
		if _, err := reached(c.fw, c.s.tasksOn("node1"), mesospb.TaskState_TASK_RUNNING); err != nil {
			t.Errorf("node1: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tasks, err := e.operator(0).Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]bool{}
	for _, task := range tasks.GetTasks() {
		if task.GetState() == mesospb.TaskState_TASK_RUNNING {
			running[task.GetTaskId().GetValue()] = true
		}
	}
	for _, id := range append(holder.tasksOn("node1"), aware.tasksOn("node1")...) {
		if !running[id] {
			t.Errorf("master: node1's task %s not TASK_RUNNING", id)
		}
	}
}

// reached checks that every task's latest state is want and returns when
// the last of them got there.
func reached(fw *framework, tasks []string, want mesospb.TaskState) (time.Time, error) {
	sts := fw.statuses()
	for _, id := range tasks {
		if got := sts[id].GetState(); got != want {
			return time.Time{}, fmt.Errorf("task %s is %s, want %s", id, got, want)
		}
	}
	var last time.Time
	wanted := map[string]bool{}
	for _, id := range tasks {
		wanted[id] = true
	}
	for _, r := range fw.received(schedulerpb.Event_UPDATE) {
		st := r.ev.GetUpdate().GetStatus()
		if wanted[st.GetTaskId().GetValue()] && st.GetState() == want {
			last = later(last, r.at)
		}
	}
	return last, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// waitRunning waits until n tasks of fw are TASK_RUNNING.
func waitRunning(t *testing.T, fw *framework, n int) {
	t.Helper()
	cluster.Eventually(t, startTimeout, func() error {
		sts := fw.statuses()
		for _, st := range sts {
			if st.GetState().Terminal() {
				return fmt.Errorf("task %s ended %s: %s", st.GetTaskId().GetValue(), st.GetState(), st.GetMessage())
			}
		}
		if got, _ := countState(sts, mesospb.TaskState_TASK_RUNNING); got != n {
			return fmt.Errorf("%d of %d tasks running", got, n)
		}
		return nil
	})
}

// sleeper launches perAgent `sleep 600` tasks on each agent (by hostname)
// from its first offer there. Later offers of the host named hold are kept
// unanswered; all others are declined for an hour. Its policy runs on the
// framework's goroutine; the other methods may be called from any.
type sleeper struct {
	perAgent          int
	prefix            string
	hold              string
	refuseAfterLaunch float64

	mu    sync.Mutex
	tasks map[string][]string // by hostname
	held  []string
}

func (s *sleeper) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	for _, o := range offers {
		host := o.GetHostname()
		s.mu.Lock()
		if s.tasks == nil {
			s.tasks = map[string][]string{}
		}
		launched := len(s.tasks[host]) > 0
		var tasks []*mesospb.TaskInfo
		if !launched {
			for i := range s.perAgent {
				id := fmt.Sprintf("%s-%s-%d", s.prefix, host, i)
				tasks = append(tasks, commandTask(id, o, 0.1, 16, "sleep 600"))
				s.tasks[host] = append(s.tasks[host], id)
			}
		}
		hold := launched && host == s.hold
		if hold {
			s.held = append(s.held, o.GetId().GetValue())
		}
		s.mu.Unlock()
		var err error
		switch {
		case len(tasks) > 0:
			refuseSecs := 3600.0
			if s.hold != "" {
				refuseSecs = s.refuseAfterLaunch
			}
			err = fw.client.Launch(ctx, offerIDs([]*mesospb.Offer{o}), tasks, refuse(refuseSecs))
		case !hold:
			err = fw.client.Decline(ctx, offerIDs([]*mesospb.Offer{o}), refuse(3600))
		}
		if err != nil {
			return fmt.Errorf("answer offer %s: %w", o.GetId().GetValue(), err)
		}
	}
	return nil
}

func (s *sleeper) tasksOn(host string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tasks[host]...)
}

func (s *sleeper) heldOffers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.held...)
}
