package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/scheduler"
	"github.com/cairnhq/cairn/test/cluster"
)

// The helpers here serve the tests that restart daemons under a framework
// that must outlive them: a checkpointing framework with a long failover
// timeout that reconciles whenever it (re-)subscribes, and a per-task
// account of every update it heard.

// failoverTimeout keeps a framework registered across a master restart.
const failoverTimeout = 3600

// startFailoverFramework is startCheckpointingFramework for a framework
// that survives master restarts: failover_timeout of an hour, re-subscribing
// with its id within a second of the master coming back, and explicitly
// reconciling every task it knows of on each SUBSCRIBED after the first, as
// a framework must after a failover.
func startFailoverFramework(t *testing.T, addr, name string, policy offerPolicy) *framework {
	t.Helper()
	info := &mesospb.FrameworkInfo{
		User:            proto.String("root"),
		Name:            proto.String(name),
		Roles:           []string{"*"},
		Checkpoint:      proto.Bool(true),
		FailoverTimeout: proto.Float64(failoverTimeout),
		Capabilities: []*mesospb.FrameworkInfo_Capability{
			{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()},
		},
	}
	fw := &framework{t: t, policy: policy, latest: map[string]*mesospb.TaskStatus{}}
	fw.client = scheduler.New(scheduler.Config{
		Masters:           []string{addr},
		FrameworkInfo:     info,
		HTTPClient:        cluster.HTTPClient(),
		ManualAcknowledge: true,
		MaxBackoff:        time.Second,
	})
	subscriptions := 0
	handle := func(ctx context.Context, ev *schedulerpb.Event) error {
		if err := fw.handle(ctx, ev); err != nil {
			return err
		}
		if ev.GetType() != schedulerpb.Event_SUBSCRIBED {
			return nil
		}
		subscriptions++
		if subscriptions == 1 {
			return nil
		}
		// A refused reconcile is retried by the test's own reconciliations;
		// it must not end the framework.
		if err := reconcileAll(ctx, fw); err != nil {
			t.Logf("reconcile on re-subscription: %v", err)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := fw.client.Run(ctx, scheduler.HandlerFunc(handle))
		fw.mu.Lock()
		fw.runErr, fw.finished = err, true
		fw.mu.Unlock()
	}()
	t.Cleanup(func() {
		tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := fw.client.Teardown(tctx); err != nil && !errors.Is(err, scheduler.ErrNotConnected) {
			t.Logf("teardown %s: %v", name, err)
		}
		tcancel()
		cancel()
		<-done
		if fw.runErr != nil {
			t.Errorf("framework %s: %v", name, fw.runErr)
		}
	})
	cluster.Eventually(t, startTimeout, func() error {
		if fw.client.FrameworkID() == "" {
			return fmt.Errorf("framework %s not subscribed", name)
		}
		return nil
	})
	return fw
}

// reconcileAll explicitly reconciles every task fw has heard of.
func reconcileAll(ctx context.Context, fw *framework) error {
	var tasks []*schedulerpb.Call_Reconcile_Task
	for _, st := range fw.statuses() {
		tasks = append(tasks, &schedulerpb.Call_Reconcile_Task{TaskId: st.GetTaskId(), AgentId: st.GetAgentId()})
	}
	if len(tasks) == 0 {
		return nil
	}
	return fw.client.Reconcile(ctx, tasks)
}

// reconcileTasks explicitly reconciles the named tasks (agent ids from the
// latest status the framework has of each, when any).
func reconcileTasks(ctx context.Context, fw *framework, agentID *mesospb.AgentID, ids []string) error {
	var tasks []*schedulerpb.Call_Reconcile_Task
	for _, id := range ids {
		tasks = append(tasks, &schedulerpb.Call_Reconcile_Task{TaskId: &mesospb.TaskID{Value: proto.String(id)}, AgentId: agentID})
	}
	return fw.client.Reconcile(ctx, tasks)
}

// heard is one UPDATE as the framework received it.
type heard struct {
	at     time.Time
	status *mesospb.TaskStatus
}

// reliable reports an update that carries a uuid: one the framework must
// acknowledge. Reconciliation answers carry none.
func (h heard) reliable() bool { return len(h.status.GetUuid()) > 0 }

func (h heard) String() string {
	s := h.status
	kind := "reconciliation"
	if h.reliable() {
		kind = fmt.Sprintf("uuid %x", s.GetUuid()[:4])
	}
	reason := ""
	if s.Reason != nil {
		reason = ", " + s.GetReason().String()
	}
	return fmt.Sprintf("%s (%s, %s%s, %q)", s.GetState(), kind, s.GetSource(), reason, s.GetMessage())
}

// updatesByTask groups fw's UPDATE events by task id, in arrival order.
func updatesByTask(fw *framework) map[string][]heard {
	out := map[string][]heard{}
	for _, r := range fw.received(schedulerpb.Event_UPDATE) {
		st := r.ev.GetUpdate().GetStatus()
		id := st.GetTaskId().GetValue()
		out[id] = append(out[id], heard{at: r.at, status: st})
	}
	return out
}

// taskHistory checks one task's updates against the rules every task
// obeys whatever happens to the daemons, and returns the violations:
//   - at most one terminal state, however it was reported (a reliable
//     update, a resend of it, or a reconciliation answer);
//   - per state, at most one uuid (a resend repeats the uuid; a second uuid
//     is the same transition reported twice);
//   - once a terminal state was heard, nothing non-terminal follows.
//
// terminal is the first terminal state heard (TASK_STAGING when none), and
// terminalUUID the uuid of the first reliable update reporting it.
func taskHistory(hs []heard) (terminal mesospb.TaskState, terminalUUID []byte, problems []string) {
	uuids := map[mesospb.TaskState]map[string]bool{}
	ended := false
	for _, h := range hs {
		s := h.status.GetState()
		if h.reliable() {
			if uuids[s] == nil {
				uuids[s] = map[string]bool{}
			}
			uuids[s][string(h.status.GetUuid())] = true
		}
		if s.Terminal() {
			if ended && s != terminal {
				problems = append(problems, fmt.Sprintf("terminal %s after terminal %s", h, terminal))
			}
			if !ended {
				terminal, ended = s, true
			}
			if h.reliable() && terminalUUID == nil && s == terminal {
				terminalUUID = h.status.GetUuid()
			}
			continue
		}
		if ended {
			problems = append(problems, fmt.Sprintf("%s after terminal %s", h, terminal))
		}
	}
	for s, us := range uuids {
		if len(us) > 1 {
			problems = append(problems, fmt.Sprintf("%s reported %d times with different uuids", s, len(us)))
		}
	}
	if !ended {
		terminal = mesospb.TaskState_TASK_STAGING
	}
	return terminal, terminalUUID, problems
}

// describe lists a task's updates for a failure message.
func describe(hs []heard) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.String()
	}
	return strings.Join(parts, " -> ")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
