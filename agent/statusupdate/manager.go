package statusupdate

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Default retry schedule, as Mesos's agent.
const (
	DefaultRetryMin = 10 * time.Second
	DefaultRetryMax = 10 * time.Minute
)

// Errors returned by Add and Ack. Callers map them to HTTP answers.
var (
	ErrNoUUID       = errors.New("status update has no 16-byte uuid")
	ErrTerminated   = errors.New("task already has a terminal status update")
	ErrUnknownTask  = errors.New("no status update stream for task")
	ErrUUIDMismatch = errors.New("acknowledgement does not match the update in flight")
)

// Config sets the retry schedule; zero fields take the defaults.
type Config struct {
	RetryMin time.Duration
	RetryMax time.Duration
}

// Key names one task's stream.
type Key struct {
	Framework ids.FrameworkID
	Task      ids.TaskID
}

// Update is one reliable status update of a task.
type Update struct {
	Key
	Executor ids.ExecutorID
	Status   *mesospb.TaskStatus // Status.Uuid is 16 bytes
}

// Send is an update that must go to the master now.
type Send struct {
	Update
	// Latest is the newest state the agent knows for the task (the tail of
	// the stream), which may be ahead of Update's state.
	Latest mesospb.TaskState
}

// AckResult says what an accepted acknowledgement did.
type AckResult struct {
	// Terminal is true when the acknowledged update was the task's terminal
	// one: the stream is closed and forgotten.
	Terminal bool
	Acked    Update
}

type stream struct {
	queue    []Update // queue[0] is the head
	seen     map[string]bool
	terminal bool // a terminal update was added
	sent     bool // the head was sent at least once
	next     time.Time
	backoff  time.Duration
}

// Manager holds every task's stream.
type Manager struct {
	cfg     Config
	streams map[Key]*stream
}

// New returns an empty Manager.
func New(cfg Config) *Manager {
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = cfg.RetryMin
	}
	return &Manager{cfg: cfg, streams: map[Key]*stream{}}
}

// Terminal reports whether state ends a task.
func Terminal(s mesospb.TaskState) bool {
	switch s {
	case mesospb.TaskState_TASK_FINISHED, mesospb.TaskState_TASK_FAILED,
		mesospb.TaskState_TASK_KILLED, mesospb.TaskState_TASK_ERROR,
		mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_DROPPED,
		mesospb.TaskState_TASK_GONE, mesospb.TaskState_TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}

// Add queues u. It returns duplicate=true (and no error) when the stream has
// already seen u's uuid. After a terminal update every new update is refused
// with ErrTerminated. A new head becomes due at now.
func (m *Manager) Add(u Update, now time.Time) (duplicate bool, err error) {
	if u.Status == nil || len(u.Status.GetUuid()) != 16 {
		return false, ErrNoUUID
	}
	s := m.streams[u.Key]
	if s == nil {
		s = &stream{seen: map[string]bool{}}
		m.streams[u.Key] = s
	}
	id := string(u.Status.GetUuid())
	if s.seen[id] {
		return true, nil
	}
	if s.terminal {
		return false, fmt.Errorf("add update for task %s: %w", u.Task, ErrTerminated)
	}
	s.seen[id] = true
	s.terminal = Terminal(u.Status.GetState())
	s.queue = append(s.queue, u)
	if len(s.queue) == 1 {
		s.sent = false
		s.next = now
		s.backoff = 0
	}
	return false, nil
}

// Ack applies the framework's acknowledgement of the update with uuid.
func (m *Manager) Ack(k Key, uuid []byte, now time.Time) (AckResult, error) {
	s := m.streams[k]
	if s == nil || len(s.queue) == 0 {
		return AckResult{}, fmt.Errorf("ack task %s: %w", k.Task, ErrUnknownTask)
	}
	head := s.queue[0]
	if !bytes.Equal(head.Status.GetUuid(), uuid) {
		return AckResult{}, fmt.Errorf("ack task %s: %w", k.Task, ErrUUIDMismatch)
	}
	s.queue[0] = Update{}
	s.queue = s.queue[1:]
	res := AckResult{Acked: head}
	if Terminal(head.Status.GetState()) {
		// The terminal update is last in its stream (Add refuses more).
		delete(m.streams, k)
		res.Terminal = true
		return res, nil
	}
	s.sent = false
	s.next = now
	s.backoff = 0
	return res, nil
}

// Due returns the heads to send at now — new heads and heads whose retry
// time has come — and schedules their next retry. The result is sorted by
// framework and task, for determinism.
func (m *Manager) Due(now time.Time) []Send {
	var out []Send
	for _, s := range m.streams {
		if len(s.queue) == 0 || now.Before(s.next) {
			continue
		}
		switch {
		case !s.sent:
			s.backoff = m.cfg.RetryMin
		default:
			s.backoff = min(2*s.backoff, m.cfg.RetryMax)
		}
		s.sent = true
		s.next = now.Add(s.backoff)
		out = append(out, Send{Update: s.queue[0], Latest: s.queue[len(s.queue)-1].Status.GetState()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Framework != out[j].Framework {
			return out[i].Framework < out[j].Framework
		}
		return out[i].Task < out[j].Task
	})
	return out
}

// NextDue is the earliest time a head becomes due; false when nothing waits.
func (m *Manager) NextDue() (time.Time, bool) {
	var t time.Time
	ok := false
	for _, s := range m.streams {
		if len(s.queue) == 0 {
			continue
		}
		if !ok || s.next.Before(t) {
			t, ok = s.next, true
		}
	}
	return t, ok
}

// Latest is the newest state queued for the task; false when no update is
// unacknowledged.
func (m *Manager) Latest(k Key) (mesospb.TaskState, bool) {
	s := m.streams[k]
	if s == nil || len(s.queue) == 0 {
		return 0, false
	}
	return s.queue[len(s.queue)-1].Status.GetState(), true
}

// Pending lists the task's unacknowledged updates, oldest first.
func (m *Manager) Pending(k Key) []Update {
	s := m.streams[k]
	if s == nil {
		return nil
	}
	return append([]Update(nil), s.queue...)
}

// Forget drops the task's stream without acknowledgement (the framework is
// gone, nobody will ever acknowledge).
func (m *Manager) Forget(k Key) { delete(m.streams, k) }

// Len is the number of open streams.
func (m *Manager) Len() int { return len(m.streams) }

// Seen reports whether the task's open stream has already taken an update
// with uuid (so a resent update is a duplicate).
func (m *Manager) Seen(k Key, uuid []byte) bool {
	s := m.streams[k]
	return s != nil && s.seen[string(uuid)]
}

// Retry makes every head due at now with a fresh backoff: after the agent
// (re-)registers with a master, which may have missed earlier sends.
func (m *Manager) Retry(now time.Time) {
	for _, s := range m.streams {
		if len(s.queue) > 0 {
			s.sent = false
			s.next = now
			s.backoff = 0
		}
	}
}
