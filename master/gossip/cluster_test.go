package gossip

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// settle bounds every wait for the pool to converge. Detection takes a few
// seconds; the slack absorbs a loaded CI machine. Tests never assert on how
// long something took.
const settle = 20 * time.Second

// recorder collects the events one node's callback receives, with the
// time each arrived.
type recorder struct {
	mu     sync.Mutex
	events []Event
	at     []time.Time
}

func (r *recorder) record(ev Event) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.at = append(r.at, now)
}

// find returns the first event of kind about name.
func (r *recorder) find(kind Kind, name string) (Event, bool) {
	ev, _, ok := r.findAt(kind, name)
	return ev, ok
}

// findAt is find that also says when the event arrived.
func (r *recorder) findAt(kind Kind, name string) (Event, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, ev := range r.events {
		if ev.Kind == kind && ev.Member.Name == name {
			return ev, r.at[i], true
		}
	}
	return Event{}, time.Time{}, false
}

// await waits for an event of kind about name and returns it.
func (r *recorder) await(t testing.TB, kind Kind, name string) Event {
	t.Helper()
	var ev Event
	eventually(t, fmt.Sprintf("%s event for %s", kind, name), func() bool {
		var ok bool
		ev, ok = r.find(kind, name)
		return ok
	})
	return ev
}

type node struct {
	*Gossip
	rec *recorder
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startNode starts a member on an ephemeral loopback port and closes it
// when the test ends.
func startNode(t testing.TB, name string, meta []byte) *node {
	t.Helper()
	rec := &recorder{}
	g, err := New(Config{
		Name:     name,
		BindAddr: "127.0.0.1",
		Meta:     meta,
		Logger:   testLogger(t),
		Events:   rec.record,
	})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return &node{Gossip: g, rec: rec}
}

// startCluster starts n members named prefix0…, joins all to the first, and
// waits until every member sees every other alive.
func startCluster(t testing.TB, prefix string, n int) []*node {
	t.Helper()
	nodes := make([]*node, n)
	for i := range nodes {
		name := fmt.Sprintf("%s%d", prefix, i)
		nodes[i] = startNode(t, name, []byte("meta-"+name))
	}
	seed := nodes[0].LocalAddr().String()
	for _, nd := range nodes[1:] {
		if _, err := nd.Join([]string{seed}); err != nil {
			t.Fatalf("join %s: %v", nd.Name(), err)
		}
	}
	for _, nd := range nodes {
		eventually(t, nd.Name()+" sees the whole pool", func() bool {
			return countState(nd.Members(), Alive) == n
		})
	}
	return nodes
}

func countState(ms []Member, s State) int {
	c := 0
	for _, m := range ms {
		if m.State == s {
			c++
		}
	}
	return c
}

func memberNamed(ms []Member, name string) (Member, bool) {
	i := slices.IndexFunc(ms, func(m Member) bool { return m.Name == name })
	if i < 0 {
		return Member{}, false
	}
	return ms[i], true
}

// eventually polls cond until it holds, failing the test after settle.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(settle)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", settle, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
