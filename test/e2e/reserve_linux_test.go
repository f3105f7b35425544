package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/scheduler"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestReserveInAcceptSurvivesAgentRestart: a framework of role eng
// reserves part of an offer in ACCEPT and launches a task on the
// reservation in the same call; the agent is stopped and started again on
// its work dir; the reservation comes back with it (from the agent's
// checkpoint), is offered to eng again, and never to a framework of
// another role.
func TestReserveInAcceptSurvivesAgentRestart(t *testing.T) {
	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	agent := e.startAgent("agent1", 1, masterAddr, "--hostname=node1", "--resources=cpus:4;mem:2048;disk:1024")
	e.waitAgents(0, 1)

	eng := startRoleFramework(t, masterAddr, "e2e-eng", "eng", reserveOnce(t, true))
	web := startRoleFramework(t, masterAddr, "e2e-web", "web", declineAll)

	waitTaskState(t, eng, "on-reserved", mesospb.TaskState_TASK_RUNNING)
	finished := false
	for _, r := range eng.received(schedulerpb.Event_UPDATE_OPERATION_STATUS) {
		st := r.ev.GetUpdateOperationStatus().GetStatus()
		finished = finished || (st.GetOperationId().GetValue() == "reserve-1" && st.GetState() == mesospb.OperationState_OPERATION_FINISHED)
	}
	if !finished {
		t.Errorf("no OPERATION_FINISHED for reserve-1")
	}
	ckpt := filepath.Join(e.dir, "agent1", "meta", "resources", "resources.info")
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("agent did not checkpoint its resources: %v", err)
	}

	if code, clean := agent.stop(); !clean {
		t.Fatalf("agent ended with %d", code)
	}
	e.waitAgents(0, 0)
	restarted := time.Now()
	again := &daemon{name: "agent1-restarted", node: agent.node, argv: agent.argv, runtimeDir: agent.runtimeDir}
	again.proc = again.node.Start(again.name, again.argv, nil)
	t.Cleanup(func() {
		if code, clean := again.stop(); !clean {
			t.Errorf("restarted agent ended with %d, not by SIGTERM", code)
		}
	})
	e.waitAgents(0, 1)

	// eng is offered the whole reservation again (its task died with the
	// agent: the framework does not checkpoint); web never is.
	awaitReservedOffer(t, eng, restarted)
	checkNeverOffered(t, web, restarted)
}

// TestMasterRestoresLostReservation: the agent is killed and loses its
// checkpointed resources before it starts again; the master, which still
// holds the agent's record, gives them back and the agent checkpoints them
// anew.
func TestMasterRestoresLostReservation(t *testing.T) {
	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	agent := e.startAgent("agent1", 1, masterAddr, "--hostname=node1", "--resources=cpus:4;mem:2048;disk:1024")
	e.waitAgents(0, 1)
	eng := startRoleFramework(t, masterAddr, "e2e-eng", "eng", reserveOnce(t, false))
	web := startRoleFramework(t, masterAddr, "e2e-web", "web", declineAll)
	ckpt := filepath.Join(e.dir, "agent1", "meta", "resources", "resources.info")
	cluster.Eventually(t, startTimeout, func() error {
		_, err := os.Stat(ckpt)
		return err
	})

	if err := agent.proc.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-agent.proc.Done()
	if err := os.Remove(ckpt); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	again := &daemon{name: "agent1-restarted", node: agent.node, argv: agent.argv, runtimeDir: agent.runtimeDir}
	again.proc = again.node.Start(again.name, again.argv, nil)
	t.Cleanup(func() {
		if code, clean := again.stop(); !clean {
			t.Errorf("restarted agent ended with %d, not by SIGTERM", code)
		}
	})
	if err := waitLog(again.proc, "checkpointed resources applied", startTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Errorf("the agent did not checkpoint the restored reservation: %v", err)
	}
	awaitReservedOffer(t, eng, restarted)
	checkNeverOffered(t, web, restarted)
}

// reserveOnce is an offer policy of role eng: the first offer is accepted
// with a RESERVE of 2 cpus and 256 MB (id reserve-1) and, when launch is
// set, a LAUNCH of task on-reserved on half of it; every other offer is
// declined for a second.
func reserveOnce(t *testing.T, launch bool) offerPolicy {
	var once sync.Once
	return func(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
		once.Do(func() {
			o := offers[0]
			offers = offers[1:]
			ops := []*mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_RESERVE.Enum(),
				Id:      &mesospb.OperationID{Value: proto.String("reserve-1")},
				Reserve: &mesospb.Offer_Operation_Reserve{Resources: engReserved(2, 256)}}}
			if launch {
				task := &mesospb.TaskInfo{
					Name: proto.String("on-reserved"), TaskId: &mesospb.TaskID{Value: proto.String("on-reserved")},
					AgentId: o.GetAgentId(), Resources: engReserved(1, 128),
					Command: &mesospb.CommandInfo{Value: proto.String("sleep 3600")},
				}
				ops = append(ops, &mesospb.Offer_Operation{Type: mesospb.Offer_Operation_LAUNCH.Enum(),
					Launch: &mesospb.Offer_Operation_Launch{TaskInfos: []*mesospb.TaskInfo{task}}})
			}
			if err := fw.client.Accept(ctx, []*mesospb.OfferID{o.GetId()}, ops, refuse(1)); err != nil {
				t.Errorf("accept: %v", err)
			}
		})
		if len(offers) == 0 {
			return nil
		}
		return fw.client.Decline(ctx, offerIDs(offers), refuse(1))
	}
}

func declineAll(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	return fw.client.Decline(ctx, offerIDs(offers), refuse(1))
}

// awaitReservedOffer waits for an offer made after since that holds the 2
// cpus reserved for eng.
func awaitReservedOffer(t *testing.T, eng *framework, since time.Time) {
	t.Helper()
	cluster.Eventually(t, startTimeout, func() error {
		for _, r := range eng.received(schedulerpb.Event_OFFERS) {
			if r.at.Before(since) {
				continue
			}
			for _, o := range r.ev.GetOffers().GetOffers() {
				if cpus := reservedScalar(o.GetResources(), "cpus", "eng"); cpus == 2 {
					return nil
				}
			}
		}
		return errors.New("no offer of the 2 reserved cpus to eng since the agent restarted")
	})
}

// checkNeverOffered waits for an offer to web made after since, then
// checks that none of web's offers ever held a reservation.
func checkNeverOffered(t *testing.T, web *framework, since time.Time) {
	t.Helper()
	cluster.Eventually(t, startTimeout, func() error {
		rs := web.received(schedulerpb.Event_OFFERS)
		if len(rs) == 0 || rs[len(rs)-1].at.Before(since) {
			return errors.New("no offer to web since the agent restarted")
		}
		return nil
	})
	for _, r := range web.received(schedulerpb.Event_OFFERS) {
		for _, o := range r.ev.GetOffers().GetOffers() {
			for _, res := range o.GetResources() {
				if res.GetRole() != "*" || len(res.GetReservations()) > 0 {
					t.Errorf("web offered reserved resources: %v", res)
				}
			}
			if cpus := scalarOf(o.GetResources(), "cpus"); cpus > 2 {
				t.Errorf("web offered %v cpus; 2 of 4 are reserved for eng", cpus)
			}
		}
	}
}

// engReserved is cpus and mem dynamically reserved for role eng.
func engReserved(cpus, mem float64) []*mesospb.Resource {
	rv := func() []*mesospb.Resource_ReservationInfo {
		return []*mesospb.Resource_ReservationInfo{{Type: mesospb.Resource_ReservationInfo_DYNAMIC.Enum(), Role: proto.String("eng")}}
	}
	return []*mesospb.Resource{
		{Name: proto.String("cpus"), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(cpus)}, Reservations: rv()},
		{Name: proto.String("mem"), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(mem)}, Reservations: rv()},
	}
}

// reservedScalar sums a scalar of one name dynamically reserved for role.
func reservedScalar(rs []*mesospb.Resource, name, role string) float64 {
	var v float64
	for _, r := range rs {
		rvs := r.GetReservations()
		if r.GetName() == name && len(rvs) == 1 && rvs[0].GetRole() == role &&
			rvs[0].GetType() == mesospb.Resource_ReservationInfo_DYNAMIC {
			v += r.GetScalar().GetValue()
		}
	}
	return v
}

// waitTaskState waits until the task's latest status is state.
func waitTaskState(t *testing.T, fw *framework, task string, state mesospb.TaskState) {
	t.Helper()
	cluster.Eventually(t, startTimeout, func() error {
		if st := fw.statuses()[task]; st.GetState() != state {
			return fmt.Errorf("task %s is %v (%s), want %v", task, st.GetState(), st.GetMessage(), state)
		}
		return nil
	})
}

// startRoleFramework is startFramework for a framework of one role (not
// MULTI_ROLE), so its offers carry no allocation_info.
func startRoleFramework(t *testing.T, addr, name, role string, policy offerPolicy) *framework {
	t.Helper()
	info := &mesospb.FrameworkInfo{User: proto.String("root"), Name: proto.String(name), Role: proto.String(role)}
	fw := &framework{t: t, policy: policy, latest: map[string]*mesospb.TaskStatus{}}
	fw.client = scheduler.New(scheduler.Config{
		Masters: []string{addr}, FrameworkInfo: info, HTTPClient: cluster.HTTPClient(), ManualAcknowledge: true,
	})
	fw.start(t, name, scheduler.HandlerFunc(fw.handle))
	return fw
}
