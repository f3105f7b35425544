package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/scheduler"
)

// ackWorkers send acknowledgements concurrently, so that the framework's
// own round trips do not pace the measurement.
const ackWorkers = 4

// taskTimes is what the benchmark records for one task.
type taskTimes struct {
	accepted, running, finished time.Time
	state                       mesospb.TaskState // latest
	message                     string
}

// bench is the framework: it packs every offer with as many tasks as fit
// until all are launched, and records the times of each task.
type bench struct {
	o      options
	client *scheduler.Client
	acks   chan *mesospb.TaskStatus

	mu       sync.Mutex
	tasks    []*taskTimes     // by index; nil until launched
	next     int              // tasks launched
	terminal int              // tasks in a terminal state
	held     []*mesospb.Offer // offers kept while --max_inflight tasks run
	done     chan struct{}
	ackErr   error
}

func benchmark(ctx context.Context, masterAddr string, o options, log *slog.Logger) (*result, error) {
	b := &bench{o: o, tasks: make([]*taskTimes, o.tasks), done: make(chan struct{}), acks: make(chan *mesospb.TaskStatus, 1024)}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the master is local or named; never go through a proxy
	tr.MaxIdleConnsPerHost = 2 * ackWorkers
	b.client = scheduler.New(scheduler.Config{
		Masters: []string{masterAddr},
		FrameworkInfo: &mesospb.FrameworkInfo{
			User:  proto.String("root"),
			Name:  proto.String("cairn-bench-launch"),
			Roles: []string{"*"},
			Capabilities: []*mesospb.FrameworkInfo_Capability{
				{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()},
			},
		},
		HTTPClient:        &http.Client{Transport: tr, Timeout: 30 * time.Second},
		Logger:            log.With("component", "framework"),
		ManualAcknowledge: true,
	})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range ackWorkers {
		wg.Go(func() { b.acknowledge(runCtx) })
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.client.Run(runCtx, scheduler.HandlerFunc(b.handle)) }()

	var err error
	select {
	case <-b.done:
	case err = <-runErr:
		if err == nil {
			err = ctx.Err()
		}
		err = fmt.Errorf("framework stopped before all tasks ended: %w", err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = b.client.Teardown(tctx)
	tcancel()
	cancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	// Every task has ended: whatever the framework hit while being torn
	// down (a late offer declined after TEARDOWN) does not matter.
	<-runErr
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ackErr != nil {
		return nil, b.ackErr
	}
	return summarize(b.tasks), nil
}

func (b *bench) handle(ctx context.Context, ev *schedulerpb.Event) error {
	switch ev.GetType() {
	case schedulerpb.Event_OFFERS:
		return b.offers(ctx, ev.GetOffers().GetOffers())
	case schedulerpb.Event_UPDATE:
		b.update(ctx, ev.GetUpdate().GetStatus())
		if b.o.maxInflight > 0 {
			return b.launchHeld(ctx)
		}
	case schedulerpb.Event_ERROR:
		return fmt.Errorf("master: %s", ev.GetError().GetMessage())
	}
	return nil
}

func (b *bench) offers(ctx context.Context, offers []*mesospb.Offer) error {
	if b.o.maxInflight > 0 {
		// Closed loop: keep the offers and launch from them as tasks end.
		b.held = append(b.held, offers...)
		return b.launchHeld(ctx)
	}
	for _, o := range offers {
		if err := b.use(ctx, o, len(b.tasks)); err != nil {
			return err
		}
	}
	return nil
}

// launchHeld launches from held offers while fewer than --max_inflight tasks
// are running. Called from the handler goroutine only.
func (b *bench) launchHeld(ctx context.Context) error {
	for len(b.held) > 0 {
		b.mu.Lock()
		room := b.o.maxInflight - (b.next - b.terminal)
		left := len(b.tasks) - b.next
		b.mu.Unlock()
		if room <= 0 && left > 0 {
			return nil
		}
		o := b.held[0]
		b.held = b.held[1:]
		if err := b.use(ctx, o, max(room, 0)); err != nil {
			return err
		}
	}
	return nil
}

// use launches up to limit tasks on offer o, or declines it when none fit.
func (b *bench) use(ctx context.Context, o *mesospb.Offer, limit int) error {
	cpus, mem := scalar(o.GetResources(), "cpus"), scalar(o.GetResources(), "mem")
	var alloc *mesospb.Resource_AllocationInfo
	if len(o.GetResources()) > 0 {
		alloc = o.GetResources()[0].GetAllocationInfo()
	}
	b.mu.Lock()
	first, n := b.next, 0
	for n < limit && b.next < len(b.tasks) && cpus+1e-9 >= b.o.cpus && mem+1e-9 >= b.o.mem {
		cpus, mem = cpus-b.o.cpus, mem-b.o.mem
		b.next++
		n++
	}
	all := b.next == len(b.tasks)
	b.mu.Unlock()
	if n == 0 {
		// Nothing fits: a task must end first, which makes a new offer.
		secs := 0.0
		if all {
			secs = 3600
		}
		if err := b.client.Decline(ctx, []*mesospb.OfferID{o.GetId()}, &mesospb.Filters{RefuseSeconds: proto.Float64(secs)}); err != nil {
			return fmt.Errorf("decline: %w", err)
		}
		return nil
	}
	infos := make([]*mesospb.TaskInfo, n)
	for i := range n {
		infos[i] = b.task(first+i, o.GetAgentId(), alloc)
	}
	now := time.Now()
	b.mu.Lock()
	for i := range n {
		b.tasks[first+i] = &taskTimes{accepted: now, state: mesospb.TaskState_TASK_STAGING}
	}
	b.mu.Unlock()
	if err := b.client.Launch(ctx, []*mesospb.OfferID{o.GetId()}, infos, &mesospb.Filters{RefuseSeconds: proto.Float64(0)}); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	return nil
}

func (b *bench) task(i int, agent *mesospb.AgentID, alloc *mesospb.Resource_AllocationInfo) *mesospb.TaskInfo {
	id := fmt.Sprintf("bench-%06d", i)
	var res []*mesospb.Resource
	for _, s := range []struct {
		name string
		v    float64
	}{{"cpus", b.o.cpus}, {"mem", b.o.mem}} {
		if s.v > 0 {
			res = append(res, &mesospb.Resource{Name: proto.String(s.name), Type: mesospb.Value_SCALAR.Enum(),
				Scalar: &mesospb.Value_Scalar{Value: proto.Float64(s.v)}, AllocationInfo: alloc})
		}
	}
	return &mesospb.TaskInfo{
		Name:      proto.String(id),
		TaskId:    &mesospb.TaskID{Value: proto.String(id)},
		AgentId:   agent,
		Resources: res,
		Command:   &mesospb.CommandInfo{Value: proto.String("true")},
	}
}

func (b *bench) update(ctx context.Context, st *mesospb.TaskStatus) {
	now := time.Now()
	var i int
	if _, err := fmt.Sscanf(st.GetTaskId().GetValue(), "bench-%d", &i); err == nil && i >= 0 && i < len(b.tasks) {
		b.mu.Lock()
		if t := b.tasks[i]; t != nil && !t.state.Terminal() {
			t.state, t.message = st.GetState(), st.GetMessage()
			switch st.GetState() {
			case mesospb.TaskState_TASK_RUNNING:
				t.running = now
			case mesospb.TaskState_TASK_FINISHED:
				t.finished = now
			}
			if st.GetState().Terminal() {
				b.terminal++
				if b.terminal == len(b.tasks) {
					close(b.done)
				}
			}
		}
		b.mu.Unlock()
	}
	if len(st.GetUuid()) > 0 {
		select {
		case b.acks <- st:
		case <-ctx.Done():
		}
	}
}

// acknowledge sends the acknowledgements queued by update.
func (b *bench) acknowledge(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-b.acks:
			err := b.client.Acknowledge(ctx, st.GetAgentId(), st.GetTaskId(), st.GetUuid())
			b.mu.Lock()
			// Once every task has ended the framework is torn down, and
			// acknowledgements still queued no longer matter.
			if err != nil && b.terminal < len(b.tasks) {
				b.ackErr = errors.Join(b.ackErr, fmt.Errorf("acknowledge %s: %w", st.GetTaskId().GetValue(), err))
			}
			b.mu.Unlock()
		}
	}
}

func scalar(rs []*mesospb.Resource, name string) float64 {
	var v float64
	for _, r := range rs {
		if r.GetName() == name && r.GetType() == mesospb.Value_SCALAR {
			v += r.GetScalar().GetValue()
		}
	}
	return v
}
