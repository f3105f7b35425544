package scheduler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/recordio"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

// errHandler marks an error that came from the Handler: it ends Run.
type errHandler struct{ err error }

func (e errHandler) Error() string { return e.err.Error() }
func (e errHandler) Unwrap() error { return e.err }

// Run subscribes and dispatches events to h until ctx is done (then it
// returns nil) or h returns an error (then it returns that error). A broken
// stream, a refused SUBSCRIBE or heartbeats that stop are retried with
// backoff, re-subscribing as the same framework.
func (c *Client) Run(ctx context.Context, h Handler) error {
	c.mu.Lock()
	incomplete := c.info.User == nil || c.info.Name == nil
	c.mu.Unlock()
	if incomplete {
		return errors.New("framework_info needs user and name")
	}
	if len(c.cfg.Masters) == 0 {
		return errors.New("no masters configured")
	}
	backoff := c.cfg.MinBackoff
	for {
		subscribed, err := c.session(ctx, h)
		if he, ok := errors.AsType[errHandler](err); ok {
			return he.err
		}
		if ctx.Err() != nil {
			return nil
		}
		if subscribed {
			backoff = c.cfg.MinBackoff
		}
		c.log.Warn("scheduler stream ended, re-subscribing", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// item is one event read from the stream, or the stream's end.
type item struct {
	ev  *schedulerpb.Event
	err error
}

// session is one SUBSCRIBE: it returns when the stream ends, reporting
// whether SUBSCRIBED was received.
func (c *Client) session(ctx context.Context, h Handler) (subscribed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := c.post(ctx, c.subscribeCall(), "")
	if err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		return false, httpError("subscribe", res)
	}
	streamID := res.Header.Get(streamHeader)
	items := make(chan item, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.readStream(ctx, res, items)
	}()
	defer func() {
		cancel()
		res.Body.Close()
		<-done
		c.mu.Lock()
		c.connected = false
		c.streamID = ""
		c.mu.Unlock()
	}()

	silence := 2 * c.cfg.DefaultHeartbeat
	timer := time.NewTimer(silence)
	defer timer.Stop()
	for {
		var it item
		select {
		case <-ctx.Done():
			return subscribed, ctx.Err()
		case <-timer.C:
			return subscribed, fmt.Errorf("no event for %s (missed heartbeats)", silence)
		case it = <-items:
		}
		if it.err != nil {
			return subscribed, it.err
		}
		ev := it.ev
		if ev.GetType() == schedulerpb.Event_SUBSCRIBED {
			subscribed = true
			silence = c.subscribed(ev.GetSubscribed(), streamID)
		}
		timer.Reset(silence)
		if err := h.HandleEvent(ctx, ev); err != nil {
			return subscribed, errHandler{err}
		}
		if ev.GetType() == schedulerpb.Event_UPDATE && !c.cfg.ManualAcknowledge {
			c.autoAck(ctx, ev.GetUpdate())
		}
	}
}

// readStream runs in its own goroutine and forwards decoded events.
func (c *Client) readStream(ctx context.Context, res *http.Response, out chan<- item) {
	rd := recordio.NewReader(res.Body, 0)
	send := func(it item) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		rec, err := rd.Next()
		if err != nil {
			send(item{err: fmt.Errorf("read event stream: %w", err)})
			return
		}
		ev := &schedulerpb.Event{}
		if err := c.codec.Unmarshal(rec, ev); err != nil {
			send(item{err: fmt.Errorf("decode event: %w", err)})
			return
		}
		if !send(item{ev: ev}) {
			return
		}
	}
}

// subscribed records the framework id and stream id of a new subscription
// and returns the silence after which the stream counts as dead.
func (c *Client) subscribed(s *schedulerpb.Event_Subscribed, streamID string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streamID = streamID
	c.connected = true
	if id := s.GetFrameworkId(); id.GetValue() != "" {
		c.frameworkID = id
		c.info.Id = id
	}
	c.log.Info("subscribed", "framework_id", c.frameworkID.GetValue(), "master", c.leader)
	interval := c.cfg.DefaultHeartbeat
	if secs := s.GetHeartbeatIntervalSeconds(); secs > 0 {
		interval = time.Duration(secs * float64(time.Second))
	}
	return 2 * interval
}

// subscribeCall re-subscribes as the known framework, if there is one.
func (c *Client) subscribeCall() *schedulerpb.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	call := &schedulerpb.Call{
		Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: cloneInfo(c.info)},
	}
	if c.frameworkID != nil {
		call.FrameworkId = c.frameworkID
		call.Subscribe.FrameworkInfo.Id = c.frameworkID
	}
	return call
}

// autoAck acknowledges a reliable update once the handler has seen it.
// A failed acknowledgement is only logged: the master resends the update.
func (c *Client) autoAck(ctx context.Context, u *schedulerpb.Event_Update) {
	st := u.GetStatus()
	if len(st.GetUuid()) == 0 || st.GetAgentId() == nil {
		return
	}
	if err := c.Acknowledge(ctx, st.GetAgentId(), st.GetTaskId(), st.GetUuid()); err != nil {
		c.log.Warn("acknowledge status update", "task_id", st.GetTaskId().GetValue(),
			"status", api.StatusOf(err, 0), "error", err)
	}
}
