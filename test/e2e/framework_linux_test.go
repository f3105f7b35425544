package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/scheduler"
	"github.com/cairnhq/cairn/test/cluster"
)

// framework is a scheduler SDK client run by a test: it records every event
// with the time it arrived, acknowledges every status update itself (so the
// test knows each ACKNOWLEDGE was accepted), and hands offers to a policy.
type framework struct {
	t      *testing.T
	client *scheduler.Client

	mu       sync.Mutex
	policy   offerPolicy // called on the SDK's goroutine
	events   []received
	acks     int
	ackErrs  []error
	latest   map[string]*mesospb.TaskStatus // by task id
	runErr   error
	finished bool
}

// offerPolicy decides what to do with offers; it runs on the SDK's handler
// goroutine and may call the client.
type offerPolicy func(ctx context.Context, fw *framework, offers []*mesospb.Offer) error

type received struct {
	at time.Time
	ev *schedulerpb.Event
}

// startFramework subscribes a framework to the master at addr and runs it
// until the test ends; at the end it tears the framework down, which kills
// its tasks.
func startFramework(t *testing.T, addr, name string, partitionAware bool, policy offerPolicy) *framework {
	t.Helper()
	info := &mesospb.FrameworkInfo{
		User:  proto.String("root"),
		Name:  proto.String(name),
		Roles: []string{"*"},
		Capabilities: []*mesospb.FrameworkInfo_Capability{
			{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()},
		},
	}
	if partitionAware {
		info.Capabilities = append(info.Capabilities,
			&mesospb.FrameworkInfo_Capability{Type: mesospb.FrameworkInfo_Capability_PARTITION_AWARE.Enum()})
	}
	fw := &framework{t: t, policy: policy, latest: map[string]*mesospb.TaskStatus{}}
	fw.client = scheduler.New(scheduler.Config{
		Masters:           []string{addr},
		FrameworkInfo:     info,
		HTTPClient:        cluster.HTTPClient(),
		ManualAcknowledge: true,
	})
	fw.start(t, name, scheduler.HandlerFunc(fw.handle))
	return fw
}

// start runs the framework's scheduler client with h until the test ends
// (tearing the framework down then and reporting how Run ended) and waits
// for it to subscribe.
func (fw *framework) start(t *testing.T, name string, h scheduler.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := fw.client.Run(ctx, h)
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
}

func (fw *framework) handle(ctx context.Context, ev *schedulerpb.Event) error {
	now := time.Now()
	fw.mu.Lock()
	fw.events = append(fw.events, received{at: now, ev: ev})
	policy := fw.policy
	if st := ev.GetUpdate().GetStatus(); st != nil {
		fw.latest[st.GetTaskId().GetValue()] = st
	}
	fw.mu.Unlock()
	switch ev.GetType() {
	case schedulerpb.Event_OFFERS:
		if policy != nil {
			return policy(ctx, fw, ev.GetOffers().GetOffers())
		}
		return fw.client.Decline(ctx, offerIDs(ev.GetOffers().GetOffers()), refuse(3600))
	case schedulerpb.Event_UPDATE:
		st := ev.GetUpdate().GetStatus()
		if len(st.GetUuid()) == 0 {
			return nil
		}
		err := fw.client.Acknowledge(ctx, st.GetAgentId(), st.GetTaskId(), st.GetUuid())
		fw.mu.Lock()
		fw.acks++
		if err != nil {
			fw.ackErrs = append(fw.ackErrs, fmt.Errorf("ack %s %s: %w", st.GetTaskId().GetValue(), st.GetState(), err))
		}
		fw.mu.Unlock()
	case schedulerpb.Event_ERROR:
		return fmt.Errorf("master sent ERROR: %s", ev.GetError().GetMessage())
	}
	return nil
}

// statuses returns the latest status of every task the framework heard of.
func (fw *framework) statuses() map[string]*mesospb.TaskStatus {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	out := make(map[string]*mesospb.TaskStatus, len(fw.latest))
	for k, v := range fw.latest {
		out[k] = v
	}
	return out
}

// received returns the events of a type, in arrival order.
func (fw *framework) received(typ schedulerpb.Event_Type) []received {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var out []received
	for _, r := range fw.events {
		if r.ev.GetType() == typ {
			out = append(out, r)
		}
	}
	return out
}

// checkAcks fails the test for every ACKNOWLEDGE the master refused, and
// returns how many were sent.
func (fw *framework) checkAcks() int {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for _, err := range fw.ackErrs {
		fw.t.Error(err)
	}
	return fw.acks
}

// countState counts tasks whose latest state is s, by agent id.
func countState(sts map[string]*mesospb.TaskStatus, s mesospb.TaskState) (total int, byAgent map[string]int) {
	byAgent = map[string]int{}
	for _, st := range sts {
		if st.GetState() == s {
			total++
			byAgent[st.GetAgentId().GetValue()]++
		}
	}
	return total, byAgent
}

func offerIDs(offers []*mesospb.Offer) []*mesospb.OfferID {
	ids := make([]*mesospb.OfferID, len(offers))
	for i, o := range offers {
		ids[i] = o.GetId()
	}
	return ids
}

func refuse(seconds float64) *mesospb.Filters {
	return &mesospb.Filters{RefuseSeconds: proto.Float64(seconds)}
}

// scalarOf sums an offer's scalar resource of one name.
func scalarOf(rs []*mesospb.Resource, name string) float64 {
	var v float64
	for _, r := range rs {
		if r.GetName() == name && r.GetType() == mesospb.Value_SCALAR {
			v += r.GetScalar().GetValue()
		}
	}
	return v
}

// commandTask is a command task of cpus and mem for the offer's agent,
// allocated to the offer's role.
func commandTask(id string, o *mesospb.Offer, cpus, mem float64, shell string) *mesospb.TaskInfo {
	var alloc *mesospb.Resource_AllocationInfo
	if rs := o.GetResources(); len(rs) > 0 {
		alloc = rs[0].GetAllocationInfo()
	}
	scalar := func(name string, v float64) *mesospb.Resource {
		return &mesospb.Resource{Name: proto.String(name), Type: mesospb.Value_SCALAR.Enum(),
			Scalar: &mesospb.Value_Scalar{Value: proto.Float64(v)}, AllocationInfo: alloc}
	}
	return &mesospb.TaskInfo{
		Name:      proto.String(id),
		TaskId:    &mesospb.TaskID{Value: proto.String(id)},
		AgentId:   o.GetAgentId(),
		Resources: []*mesospb.Resource{scalar("cpus", cpus), scalar("mem", mem)},
		Command:   &mesospb.CommandInfo{Value: proto.String(shell)},
	}
}
