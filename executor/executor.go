package executor

import (
	"context"
	"errors"

	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
)

// Run is `cairn executor`: it reads its configuration from env (as
// os.Environ returns it), runs the command task (or, as the default
// executor, the task groups) the agent launches and returns once they are
// over and reported, or the agent is gone for good.
func Run(ctx context.Context, env []string, log *slog.Logger) error {
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		return err
	}
	cfg.ReapAll = os.Getpid() == 1
	e, err := New(cfg, log)
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

// Executor is one command or default executor. Its state is owned by the goroutine in
// Run; the methods are not safe for concurrent use.
type Executor struct {
	cfg    Config
	log    *slog.Logger
	conn   *agentConn
	reaper *reaper

	executorID  *mesospb.ExecutorID
	frameworkID *mesospb.FrameworkID

	// Connection state.
	streamCh     chan streamItem
	gen          int // generation of the current stream; older items are stale
	connected    bool
	subscribed   bool // has been subscribed at least once
	lostAt       time.Time
	backoff      time.Duration
	reconnect    *time.Timer
	cancelStream context.CancelFunc
	streams      sync.WaitGroup

	framework *mesospb.FrameworkInfo
	tasks     []*task // in launch order; ended tasks stay (their acks, the group rule)
	groups    int     // LAUNCH_GROUPs received so far
	unacked   []*executorpb.Call_Update
	// escalations delivers tasks whose kill grace period is over; the
	// timers of several tasks feed it.
	escalations chan *task
	quit        chan struct{} // closed when Run returns

	shutdown bool // SHUTDOWN received, agent lost or ctx done: exit when the tasks are over
	quick    bool // exit without waiting for acknowledgements
	ackWait  *time.Timer
	done     bool
	err      error
}

// streamItem is an event, or the end of a stream (err != nil).
type streamItem struct {
	gen int
	ev  *executorpb.Event
	err error
}

// New validates cfg and returns an executor ready to Run.
func New(cfg Config, log *slog.Logger) (*Executor, error) {
	if cfg.AgentEndpoint == "" || cfg.FrameworkID == "" || cfg.ExecutorID == "" {
		return nil, errors.New("executor config needs the agent endpoint, framework id and executor id")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	log = log.With("executor_id", cfg.ExecutorID, "framework_id", cfg.FrameworkID)
	return &Executor{
		cfg:         cfg,
		log:         log,
		conn:        newAgentConn(cfg),
		executorID:  &mesospb.ExecutorID{Value: &cfg.ExecutorID},
		frameworkID: &mesospb.FrameworkID{Value: &cfg.FrameworkID},
		streamCh:    make(chan streamItem, 16),
		escalations: make(chan *task, 16),
		quit:        make(chan struct{}),
	}, nil
}

// Run subscribes to the agent and serves its events until the tasks are
// over and reported. Cancelling ctx kills them (with the shutdown grace
// period) and returns once they have exited.
func (e *Executor) Run(ctx context.Context) error {
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.reaper = newReaper(e.cfg.ReapAll, e.log)
	var reaperDone sync.WaitGroup
	reaperDone.Go(func() { e.reaper.run(loopCtx) })
	defer func() {
		close(e.quit)
		if e.cancelStream != nil {
			e.cancelStream()
		}
		stop()
		e.streams.Wait()
		reaperDone.Wait()
	}()

	e.subscribe(loopCtx)
	ctxDone := ctx.Done()
	for !e.done {
		select {
		case <-ctxDone:
			ctxDone = nil
			e.log.Info("stopping: context done")
			e.stop(e.cfg.ShutdownGracePeriod, true)
		case it := <-e.streamCh:
			if it.gen != e.gen {
				continue
			}
			if it.err != nil {
				e.lost(loopCtx, it.err)
				continue
			}
			e.handle(loopCtx, it.ev)
		case ex := <-e.reaper.exits:
			e.exited(loopCtx, ex)
		case <-timerC(e.reconnect):
			e.reconnect = nil
			e.subscribe(loopCtx)
		case t := <-e.escalations:
			if t.escalate == nil || t.terminal {
				continue // stopped or ended after the timer fired
			}
			t.escalate = nil
			e.log.Info("grace period over, killing task", "task_id", t.id())
			killGroup(t.pid, true)
		case <-timerC(e.ackWait):
			e.ackWait = nil
			if !e.connected && e.cfg.Checkpoint {
				// The agent is away and will recover this executor: it
				// needs the terminal update, which only this process still
				// has. Wait for it (lost gives up at the recovery timeout).
				e.log.Info("terminal update not acknowledged; waiting for the agent to come back", "unacked", len(e.unacked))
				continue
			}
			e.log.Warn("terminal update not acknowledged in time, exiting", "unacked", len(e.unacked))
			e.done = true
		}
	}
	return e.err
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// stop ends the executor: kill the tasks that run, then exit once they are
// over. quick skips waiting for the terminal updates' acknowledgements.
func (e *Executor) stop(grace time.Duration, quick bool) {
	e.shutdown = true
	e.quick = e.quick || quick
	if !e.live() {
		if e.quick || len(e.unacked) == 0 {
			e.done = true
		}
		return
	}
	for _, t := range e.tasks {
		if !t.terminal {
			e.kill(t, grace)
		}
	}
}

// finish is called when a terminal update went out. While other tasks
// live it does nothing; after the last one the executor exits once the
// updates are acknowledged, but not later than AckWait. (Mesos's default
// executor, too, ends itself as soon as it has no active task left, so a
// later LAUNCH_GROUP needs a new executor.)
func (e *Executor) finish() {
	if e.live() {
		return
	}
	if e.quick || !e.connected && !e.cfg.Checkpoint {
		e.done = true
		return
	}
	if len(e.unacked) == 0 {
		e.done = true
		return
	}
	if e.ackWait == nil {
		e.ackWait = time.NewTimer(e.cfg.AckWait)
	}
}

// setErr records the first error Run should return.
func (e *Executor) setErr(err error) {
	if e.err == nil {
		e.err = err
	}
}
