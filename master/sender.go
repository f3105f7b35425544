package master

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// agentSender delivers messages to one agent in order, one at a time, so a
// kill never overtakes its launch. Each message is retried with backoff
// while the agent is admitted; a run_tasks that cannot be delivered after
// RunTasksAttempts is handed back to the loop, whose tasks become lost.
type agentSender struct {
	m    *Master
	id   ids.AgentID
	addr netip.AddrPort

	mu      sync.Mutex
	pending []agentMsg
	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
}

type agentMsg struct {
	path string
	msg  proto.Message
	once bool // best effort: one attempt
}

// sender returns the agent's sender, starting one (or replacing one for an
// old address) as needed. Loop goroutine only.
func (m *Master) sender(id ids.AgentID, addr netip.AddrPort) *agentSender {
	if s, ok := m.senders[id]; ok {
		if s.addr == addr {
			return s
		}
		s.stop()
	}
	ctx, cancel := context.WithCancel(m.ctx)
	s := &agentSender{m: m, id: id, addr: addr, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	m.senders[id] = s
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		s.run()
	}()
	return s
}

// stopSender stops the agent's sender; undelivered messages are dropped
// (the agent is gone; its tasks were already reported). Loop only.
func (m *Master) stopSender(id ids.AgentID) {
	if s, ok := m.senders[id]; ok {
		s.stop()
		delete(m.senders, id)
	}
}

func (s *agentSender) push(msg agentMsg) {
	s.mu.Lock()
	s.pending = append(s.pending, msg)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *agentSender) stop() { s.cancel() }

func (s *agentSender) next() (agentMsg, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return agentMsg{}, false
	}
	msg := s.pending[0]
	s.pending[0] = agentMsg{}
	s.pending = s.pending[1:]
	return msg, true
}

func (s *agentSender) run() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		}
		for {
			msg, ok := s.next()
			if !ok {
				break
			}
			if !s.deliver(msg) {
				if s.ctx.Err() != nil {
					return
				}
				switch pm := msg.msg.(type) {
				case *internalpb.RunTasks:
					s.m.post(func() { s.m.core.RunTasksFailed(s.id, pm, time.Now()) })
				case *internalpb.ShutdownExecutor:
					// An agent without shutdown_executor: kill the tasks.
					s.m.post(func() { s.m.core.ShutdownByKill(s.id, pm) })
				}
			}
		}
	}
}

// deliver posts msg until it is accepted, the sender stops, or (for
// run_tasks) the attempts run out. Other messages are retried for about a
// minute: acks and kills are idempotent at the agent, and an agent that does
// not answer for that long is failed by gossip anyway.
func (s *agentSender) deliver(msg agentMsg) bool {
	url := "http://" + s.addr.String() + "/internal/v1/" + msg.path
	limit := 40
	switch {
	case msg.once:
		limit = 1
	case msg.path == "run_tasks":
		limit = s.m.cfg.RunTasksAttempts
	}
	delay := s.m.cfg.AgentRetry
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		err := endpoint.Post(ctx, s.m.client, url, msg.msg, nil)
		cancel()
		if err == nil {
			return true
		}
		// 404: the agent does not serve this endpoint (an older agent);
		// 400: it refuses the message itself. Asking again will not help.
		status := api.StatusOf(err, 0)
		if s.ctx.Err() != nil || attempt >= limit || status == http.StatusNotFound || status == http.StatusBadRequest {
			s.m.log.Warn("agent message not delivered", "agent_id", s.id, "path", msg.path, "attempts", attempt, "err", err)
			return false
		}
		s.m.log.Debug("agent message retry", "agent_id", s.id, "path", msg.path, "attempt", attempt, "err", err)
		select {
		case <-s.ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}
