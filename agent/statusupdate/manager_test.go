package statusupdate

import (
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	cairnids "github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Unix(1_700_000_000, 0)

func uuid(b byte) []byte {
	u := make([]byte, 16)
	u[15] = b
	return u
}

func upd(task string, state mesospb.TaskState, id byte) Update {
	return Update{
		Key: Key{Framework: "fw", Task: cairnids.TaskID(task)},
		Status: &mesospb.TaskStatus{
			TaskId: &mesospb.TaskID{Value: proto.String(task)},
			State:  state.Enum(),
			Uuid:   uuid(id),
		},
	}
}

func sentStates(sends []Send) []string {
	var out []string
	for _, s := range sends {
		out = append(out, string(s.Task)+":"+s.Status.GetState().String()+"/"+s.Latest.String())
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStreamInOrderWithAcks(t *testing.T) {
	m := New(Config{})
	key := Key{Framework: "fw", Task: "t1"}
	for i, st := range []mesospb.TaskState{mesospb.TaskState_TASK_STARTING, mesospb.TaskState_TASK_RUNNING, mesospb.TaskState_TASK_FINISHED} {
		if dup, err := m.Add(upd("t1", st, byte(i+1)), t0); dup || err != nil {
			t.Fatalf("add %v: dup=%v err=%v", st, dup, err)
		}
	}
	steps := []struct {
		ack      byte
		wantErr  error
		terminal bool
		want     []string
	}{
		{0, nil, false, []string{"t1:TASK_STARTING/TASK_FINISHED"}},
		{2, ErrUUIDMismatch, false, nil}, // out of order: not the head
		{1, nil, false, []string{"t1:TASK_RUNNING/TASK_FINISHED"}},
		{1, ErrUUIDMismatch, false, nil}, // duplicate ack of an old update
		{2, nil, false, []string{"t1:TASK_FINISHED/TASK_FINISHED"}},
		{3, nil, true, nil},
	}
	for i, s := range steps {
		if s.ack != 0 {
			res, err := m.Ack(key, uuid(s.ack), t0)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("step %d: ack err %v, want %v", i, err, s.wantErr)
			}
			if res.Terminal != s.terminal {
				t.Fatalf("step %d: terminal %v, want %v", i, res.Terminal, s.terminal)
			}
			if err != nil {
				continue
			}
		}
		if got := sentStates(m.Due(t0)); !equal(got, s.want) {
			t.Fatalf("step %d: sent %v, want %v", i, got, s.want)
		}
	}
	if m.Len() != 0 {
		t.Fatalf("stream not closed after terminal ack: %d open", m.Len())
	}
	if _, err := m.Ack(key, uuid(3), t0); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("ack after close: %v", err)
	}
}

func TestRetryBackoff(t *testing.T) {
	m := New(Config{RetryMin: 10 * time.Second, RetryMax: 35 * time.Second})
	m.Add(upd("t1", mesospb.TaskState_TASK_RUNNING, 1), t0)
	// Offsets (s) at which Due is asked, and whether the head is sent.
	steps := []struct {
		at   int
		send bool
	}{
		{0, true}, {9, false}, {10, true}, {29, false}, {30, true},
		{64, false}, {65, true}, {99, false}, {100, true}, // capped at 35 s
	}
	for _, s := range steps {
		got := len(m.Due(t0.Add(time.Duration(s.at)*time.Second))) == 1
		if got != s.send {
			t.Fatalf("at %ds: sent=%v, want %v", s.at, got, s.send)
		}
	}
	next, ok := m.NextDue()
	if !ok || !next.Equal(t0.Add(135*time.Second)) {
		t.Fatalf("next due %v %v", next, ok)
	}
	// An ack resets the schedule: the next head goes out at once.
	m.Add(upd("t1", mesospb.TaskState_TASK_FINISHED, 2), t0)
	if _, err := m.Ack(Key{"fw", "t1"}, uuid(1), t0.Add(101*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := sentStates(m.Due(t0.Add(101 * time.Second))); !equal(got, []string{"t1:TASK_FINISHED/TASK_FINISHED"}) {
		t.Fatalf("after ack sent %v", got)
	}
}

func TestDuplicatesAndTerminalOnce(t *testing.T) {
	m := New(Config{})
	cases := []struct {
		name    string
		u       Update
		dup     bool
		wantErr error
	}{
		{"first", upd("t1", mesospb.TaskState_TASK_RUNNING, 1), false, nil},
		{"same uuid again", upd("t1", mesospb.TaskState_TASK_RUNNING, 1), true, nil},
		{"terminal", upd("t1", mesospb.TaskState_TASK_FAILED, 2), false, nil},
		{"terminal resent", upd("t1", mesospb.TaskState_TASK_FAILED, 2), true, nil},
		{"second terminal", upd("t1", mesospb.TaskState_TASK_FINISHED, 3), false, ErrTerminated},
		{"update after terminal", upd("t1", mesospb.TaskState_TASK_RUNNING, 4), false, ErrTerminated},
		{"no uuid", Update{Key: Key{"fw", "t2"}, Status: &mesospb.TaskStatus{State: mesospb.TaskState_TASK_RUNNING.Enum()}}, false, ErrNoUUID},
		{"other task", upd("t2", mesospb.TaskState_TASK_RUNNING, 1), false, nil},
	}
	for _, c := range cases {
		dup, err := m.Add(c.u, t0)
		if dup != c.dup || !errors.Is(err, c.wantErr) {
			t.Fatalf("%s: dup=%v err=%v, want dup=%v err=%v", c.name, dup, err, c.dup, c.wantErr)
		}
	}
	if got := sentStates(m.Due(t0)); !equal(got, []string{"t1:TASK_RUNNING/TASK_FAILED", "t2:TASK_RUNNING/TASK_RUNNING"}) {
		t.Fatalf("sent %v", got)
	}
	// Count terminal sends through acks: exactly one TASK_FAILED, no FINISHED.
	m.Ack(Key{"fw", "t1"}, uuid(1), t0)
	terminals := 0
	for _, s := range m.Due(t0) {
		if Terminal(s.Status.GetState()) {
			terminals++
		}
	}
	if res, err := m.Ack(Key{"fw", "t1"}, uuid(2), t0); err != nil || !res.Terminal {
		t.Fatalf("terminal ack: %+v %v", res, err)
	}
	if _, err := m.Add(upd("t1", mesospb.TaskState_TASK_FAILED, 2), t0); err != nil {
		// After the stream closed the agent's task table rejects the task;
		// the manager itself would open a fresh stream, which is fine.
		t.Fatalf("re-add after close: %v", err)
	}
	if terminals != 1 {
		t.Fatalf("terminal sent %d times", terminals)
	}
	if st, ok := m.Latest(Key{"fw", "t2"}); !ok || st != mesospb.TaskState_TASK_RUNNING {
		t.Fatalf("latest t2 %v %v", st, ok)
	}
}

func TestRetryMakesHeadsDue(t *testing.T) {
	m := New(Config{RetryMin: 10 * time.Second, RetryMax: time.Minute})
	m.Add(upd("t1", mesospb.TaskState_TASK_RUNNING, 1), t0)
	m.Add(upd("t2", mesospb.TaskState_TASK_RUNNING, 2), t0)
	if got := len(m.Due(t0)); got != 2 {
		t.Fatalf("due at first: %d", got)
	}
	if got := len(m.Due(t0.Add(time.Second))); got != 0 {
		t.Fatalf("due before the retry: %d", got)
	}
	m.Retry(t0.Add(time.Second))
	if got := sentStates(m.Due(t0.Add(time.Second))); len(got) != 2 {
		t.Fatalf("due after Retry: %v", got)
	}
	if next, ok := m.NextDue(); !ok || !next.Equal(t0.Add(11*time.Second)) {
		t.Fatalf("next due %v %v: backoff not restarted", next, ok)
	}
}
