package e2e

import (
	"context"
	"fmt"
	"path/filepath"
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
// timeout that reconciles whenever it (re-)subscribes, restarting a daemon
// in place, and draining an agent of its tasks before the test ends.

// failoverTimeout keeps a framework registered across a master restart.
const failoverTimeout = 3600

// startFailoverFramework is startCheckpointingFramework for a framework
// that survives master restarts: failover_timeout of an hour, re-subscribing
// with its id within a second of the master coming back, and explicitly
// reconciling every task it knows of on each SUBSCRIBED after the first, as
// a framework must after a failover.
func startFailoverFramework(t *testing.T, addr, name string, policy offerPolicy) *framework {
	t.Helper()
	info := checkpointingInfo(name)
	info.FailoverTimeout = proto.Float64(failoverTimeout)
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
	fw.start(t, name, scheduler.HandlerFunc(handle))
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

// restart starts d again with its own command line on its node, without
// waiting for it. The harness's cleanup for d then stops the new process;
// its log is under the new name.
func (e *env) restart(d *daemon, name string) {
	e.t.Helper()
	d.proc = d.node.Start(name, d.argv, nil)
}

// killAndDrain kills the tasks still running while the agent runs, and
// waits until their containers are gone: checkpointed executors would
// otherwise outlive the agent's SIGTERM in cleanup.
func killAndDrain(t *testing.T, fw *framework, agent *daemon, tasks []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sts := fw.statuses()
	for _, id := range tasks {
		st := sts[id]
		if st == nil || st.GetState().Terminal() {
			continue
		}
		if err := fw.client.Kill(ctx, st.GetTaskId(), st.GetAgentId(), nil); err != nil {
			t.Errorf("kill %s: %v", id, err)
		}
	}
	cluster.Eventually(t, startTimeout, func() error {
		if left := containerStates(filepath.Join(agent.runtimeDir, "containers")); len(left) > 0 {
			return fmt.Errorf("%d containers left after killing the tasks", len(left))
		}
		return nil
	})
}
