package gossip

import (
	"bytes"
	"sync"

	"github.com/hashicorp/memberlist"
)

// eventDelegate receives memberlist's callbacks. memberlist calls them one at
// a time but with its node lock held, so each one only copies the node into
// the table and the queue and returns: a user callback run here could not
// even call Members without deadlocking, and would stall failure detection.
type eventDelegate struct {
	table *table
	queue *dispatcher // nil when Config.Events is nil
}

var _ memberlist.EventDelegate = (*eventDelegate)(nil)

func (d *eventDelegate) NotifyJoin(n *memberlist.Node) {
	m, _ := memberFromNode(n, Alive)
	d.record(Event{Kind: Join, Member: m})
}

// NotifyUpdate fires on any change of the raw metadata; a change of the
// flags byte alone (a member announcing it is leaving) is not news to the
// user and yields no event.
func (d *eventDelegate) NotifyUpdate(n *memberlist.Node) {
	m, _ := memberFromNode(n, Alive)
	ev := Event{Kind: Update, Member: m}
	prev, known := d.table.apply(ev)
	if known && bytes.Equal(prev.Meta, m.Meta) {
		return
	}
	d.enqueue(ev)
}

// NotifyLeave fires when memberlist declares a member dead, whether it said
// goodbye or not; the leaving flag tells the two apart (see meta.go).
func (d *eventDelegate) NotifyLeave(n *memberlist.Node) {
	m, flags := memberFromNode(n, Dead)
	kind := Fail
	if flags&flagLeaving != 0 {
		m.State, kind = Left, Leave
	}
	d.record(Event{Kind: kind, Member: m})
}

func (d *eventDelegate) record(ev Event) {
	d.table.apply(ev)
	d.enqueue(ev)
}

func (d *eventDelegate) enqueue(ev Event) {
	if d.queue != nil {
		d.queue.push(ev)
	}
}

// dispatcher hands events to the user's callback from its own goroutine, in
// the order memberlist produced them. The queue is unbounded so that a slow
// callback delays later events but never memberlist; membership changes are
// rare enough (a few per member lifetime, plus metadata updates) that the
// backlog stays small unless the callback is stuck.
type dispatcher struct {
	fn func(Event)

	mu      sync.Mutex
	pending []Event
	closed  bool

	wake chan struct{} // capacity 1: "pending may be non-empty"
	stop chan struct{}
	done chan struct{}
}

func newDispatcher(fn func(Event)) *dispatcher {
	d := &dispatcher{
		fn:   fn,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go d.run()
	return d
}

func (d *dispatcher) push(ev Event) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.pending = append(d.pending, ev)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
		for {
			ev, ok := d.next()
			if !ok {
				break
			}
			d.fn(ev)
		}
	}
}

// next pops the oldest pending event; false when there is none or the
// dispatcher is closing.
func (d *dispatcher) next() (Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || len(d.pending) == 0 {
		return Event{}, false
	}
	ev := d.pending[0]
	d.pending[0] = Event{}
	d.pending = d.pending[1:]
	return ev, true
}

// close drops undelivered events and waits for a callback in progress to
// return. It must not be called from the callback itself.
func (d *dispatcher) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.pending = nil
	d.mu.Unlock()
	close(d.stop)
	<-d.done
}
