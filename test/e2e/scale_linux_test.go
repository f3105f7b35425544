package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestTwoAgents500Tasks launches 500 short tasks of varied sizes across the
// offers of two agents; every one must finish and every update be
// acknowledged.
func TestTwoAgents500Tasks(t *testing.T) {
	const n = 500
	e := newEnv(t, 3)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	e.startAgent("agent1", 1, masterAddr)
	e.startAgent("agent2", 2, masterAddr)
	e.waitAgents(0, 2)

	l := newLauncher(n, "true", rand.New(rand.NewPCG(1, 2)))
	fw := startFramework(t, masterAddr, "e2e-500", false, l.policy)

	var bad *mesospb.TaskStatus
	progress(t, time.Minute, func() (int, error) {
		sts := fw.statuses()
		for _, st := range sts {
			if st.GetState().Terminal() && st.GetState() != mesospb.TaskState_TASK_FINISHED {
				bad = st
				return 0, nil
			}
		}
		done, _ := countState(sts, mesospb.TaskState_TASK_FINISHED)
		if done < n {
			return done, fmt.Errorf("%d of %d tasks finished (%d launched, %d heard of)", done, n, l.count(), len(sts))
		}
		return done, nil
	})
	if bad != nil {
		t.Fatalf("task %s ended %s (%s, %s): %s", bad.GetTaskId().GetValue(), bad.GetState(), bad.GetSource(),
			bad.GetReason(), bad.GetMessage())
	}
	sts := fw.statuses()
	done, byAgent := countState(sts, mesospb.TaskState_TASK_FINISHED)
	if done != n || len(sts) != n {
		t.Fatalf("%d tasks finished, %d heard of; want %d", done, len(sts), n)
	}
	if len(byAgent) != 2 {
		t.Errorf("tasks finished on %d agents (%v), want both", len(byAgent), byAgent)
	}
	var last time.Time
	for _, r := range fw.received(schedulerpb.Event_UPDATE) {
		if r.ev.GetUpdate().GetStatus().GetState() == mesospb.TaskState_TASK_FINISHED {
			last = r.at
		}
	}
	elapsed := last.Sub(l.firstLaunch())
	t.Logf("%d tasks: first launch to last TASK_FINISHED %v (%.0f tasks/s); per agent %v",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), byAgent)

	// Every update with a uuid was acknowledged, and the master took each
	// acknowledgement.
	cluster.Eventually(t, 30*time.Second, func() error {
		want := 0
		for _, r := range fw.received(schedulerpb.Event_UPDATE) {
			if len(r.ev.GetUpdate().GetStatus().GetUuid()) > 0 {
				want++
			}
		}
		if got := fw.checkAcks(); got != want {
			return fmt.Errorf("%d of %d updates acknowledged", got, want)
		}
		return nil
	})
}

// launcher packs offers with tasks from a fixed list until all are
// launched. Its policy runs on the framework's goroutine; count and
// firstLaunch may be read from any.
type launcher struct {
	sizes []taskSize
	cmd   string

	mu    sync.Mutex
	next  int
	first time.Time
}

type taskSize struct{ cpus, mem float64 }

// newLauncher draws n task sizes: cpus 0.01 to 0.05, mem 8 to 16 MB.
func newLauncher(n int, cmd string, r *rand.Rand) *launcher {
	l := &launcher{cmd: cmd}
	for range n {
		l.sizes = append(l.sizes, taskSize{cpus: 0.01 * float64(1+r.IntN(5)), mem: float64(8 + r.IntN(9))})
	}
	return l
}

func (l *launcher) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

func (l *launcher) firstLaunch() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}

func (l *launcher) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	for _, o := range offers {
		cpus, mem := scalarOf(o.GetResources(), "cpus"), scalarOf(o.GetResources(), "mem")
		var tasks []*mesospb.TaskInfo
		l.mu.Lock()
		for l.next < len(l.sizes) {
			s := l.sizes[l.next]
			if s.cpus > cpus+1e-9 || s.mem > mem+1e-9 {
				break
			}
			tasks = append(tasks, commandTask(fmt.Sprintf("t%04d", l.next), o, s.cpus, s.mem, l.cmd))
			cpus, mem = cpus-s.cpus, mem-s.mem
			l.next++
		}
		if len(tasks) > 0 && l.first.IsZero() {
			l.first = time.Now()
		}
		all := l.next == len(l.sizes)
		l.mu.Unlock()
		if len(tasks) == 0 {
			secs := 1.0
			if all {
				secs = 3600
			}
			if err := fw.client.Decline(ctx, offerIDs([]*mesospb.Offer{o}), refuse(secs)); err != nil {
				return fmt.Errorf("decline: %w", err)
			}
			continue
		}
		// What is left of the offer comes straight back in the next one.
		if err := fw.client.Launch(ctx, offerIDs([]*mesospb.Offer{o}), tasks, refuse(0)); err != nil {
			return fmt.Errorf("launch: %w", err)
		}
	}
	return nil
}
