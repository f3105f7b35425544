package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/executorpb"
)

// minBackoff is the first delay before re-subscribing; it doubles up to
// MESOS_SUBSCRIPTION_BACKOFF_MAX.
const minBackoff = 50 * time.Millisecond

// subscribe starts a new stream goroutine; anything the previous one still
// delivers is stale from now on.
func (e *Executor) subscribe(ctx context.Context) {
	if e.cancelStream != nil {
		e.cancelStream()
	}
	e.gen++
	gen := e.gen
	sctx, cancel := context.WithCancel(ctx)
	e.cancelStream = cancel
	call := e.subscribeCall()
	e.streams.Go(func() { e.readStream(sctx, gen, call) })
}

// subscribeCall carries what the agent may have missed: the tasks none of
// whose updates was acknowledged, and every unacknowledged update.
func (e *Executor) subscribeCall() *executorpb.Call {
	sub := &executorpb.Call_Subscribe{}
	for _, t := range e.tasks {
		if !t.acked {
			sub.UnacknowledgedTasks = append(sub.UnacknowledgedTasks, t.info)
		}
	}
	sub.UnacknowledgedUpdates = append(sub.UnacknowledgedUpdates, e.unacked...)
	return &executorpb.Call{
		ExecutorId:  e.executorID,
		FrameworkId: e.frameworkID,
		Type:        executorpb.Call_SUBSCRIBE.Enum(),
		Subscribe:   sub,
	}
}

// readStream runs in its own goroutine: it subscribes and forwards events
// until the stream ends, then reports why.
func (e *Executor) readStream(ctx context.Context, gen int, call *executorpb.Call) {
	deliver := func(it streamItem) bool {
		select {
		case e.streamCh <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	s, err := e.conn.subscribe(ctx, call)
	if err != nil {
		deliver(streamItem{gen: gen, err: err})
		return
	}
	defer s.Close()
	for {
		ev, err := s.next()
		if err != nil {
			deliver(streamItem{gen: gen, err: fmt.Errorf("read event stream: %w", err)})
			return
		}
		if !deliver(streamItem{gen: gen, ev: ev}) {
			return
		}
	}
}

// lost handles a stream that ended or never opened. A checkpointing
// executor (and one that never subscribed yet) retries until the recovery
// timeout; otherwise the agent is taken to be gone and the task with it, so
// nothing keeps running unsupervised.
func (e *Executor) lost(ctx context.Context, err error) {
	wasConnected := e.connected
	e.connected = false
	if e.done {
		return
	}
	if wasConnected {
		e.log.Warn("disconnected from agent", "error", err)
	} else {
		e.log.Debug("subscribe attempt failed", "error", err)
	}
	if s := api.StatusOf(err, 0); s >= 400 && s < 500 {
		// The agent is up and refuses this executor (it forgot it, or
		// already counts it as terminated): no retry will change that.
		e.log.Warn("agent refused subscription: killing task", "status", s, "error", err)
		e.setErr(fmt.Errorf("agent refused subscription: %w", err))
		e.stop(e.cfg.ShutdownGracePeriod, true)
		return
	}
	if e.subscribed && !e.cfg.Checkpoint {
		e.log.Info("agent gone and framework not checkpointing: killing task")
		e.setErr(fmt.Errorf("agent connection lost: %w", err))
		e.stop(e.cfg.ShutdownGracePeriod, true)
		return
	}
	now := time.Now()
	if e.lostAt.IsZero() {
		e.lostAt = now
	}
	if now.Sub(e.lostAt) > e.cfg.RecoveryTimeout {
		e.log.Warn("agent did not come back within the recovery timeout", "recovery_timeout", e.cfg.RecoveryTimeout)
		e.setErr(fmt.Errorf("agent unreachable for %s: %w", e.cfg.RecoveryTimeout, err))
		e.stop(e.cfg.ShutdownGracePeriod, true)
		return
	}
	if e.shutdown && !e.live() {
		// Only the acknowledgement is missing; the agent recovers the
		// outcome from the container.
		e.done = true
		return
	}
	if e.backoff == 0 {
		e.backoff = minBackoff
	} else {
		e.backoff = min(2*e.backoff, e.cfg.SubscriptionBackoffMax)
	}
	e.reconnect = time.NewTimer(e.backoff)
}

// subscribedTo handles SUBSCRIBED: the stream is up, and updates the agent
// may not have seen go out again (it drops duplicates by uuid).
func (e *Executor) subscribedTo(ctx context.Context, s *executorpb.Event_Subscribed) {
	e.connected = true
	e.subscribed = true
	e.lostAt = time.Time{}
	e.backoff = 0
	e.framework = s.GetFrameworkInfo()
	e.log.Debug("subscribed", "agent_id", s.GetAgentInfo().GetId().GetValue())
	for _, u := range e.unacked {
		e.post(ctx, u)
	}
	if e.over() && len(e.unacked) > 0 && e.ackWait == nil {
		// Back after waiting out an agent restart: bound the wait again.
		e.ackWait = time.NewTimer(e.cfg.AckWait)
	}
}

// post sends one UPDATE call. A failure is only logged: the update stays
// unacknowledged and goes out again with the next SUBSCRIBE.
func (e *Executor) post(ctx context.Context, u *executorpb.Call_Update) {
	call := &executorpb.Call{
		ExecutorId:  e.executorID,
		FrameworkId: e.frameworkID,
		Type:        executorpb.Call_UPDATE.Enum(),
		Update:      u,
	}
	err := e.conn.send(ctx, call)
	if err == nil {
		return
	}
	e.log.Warn("send status update", "task_id", u.GetStatus().GetTaskId().GetValue(),
		"state", u.GetStatus().GetState().String(), "error", err)
	if s := api.StatusOf(err, 0); s >= 400 && s < 500 {
		// The agent refuses this update for good; resending cannot help,
		// and waiting for its acknowledgement would only delay the exit.
		e.forget(u.GetStatus().GetUuid())
	}
}
