package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"
)

// names collects event member names from a callback, safely.
type names struct {
	mu  sync.Mutex
	got []string
}

func (n *names) add(s string) {
	n.mu.Lock()
	n.got = append(n.got, s)
	n.mu.Unlock()
}

func (n *names) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

func named(name string) Event { return Event{Kind: Join, Member: Member{Name: name}} }

func TestDispatcherDeliversInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got names
		d := newDispatcher(func(ev Event) { got.add(ev.Member.Name) })
		defer d.close()
		var want []string
		for i := range 50 {
			name := fmt.Sprintf("m%02d", i)
			want = append(want, name)
			d.push(named(name))
			if i%7 == 0 {
				synctest.Wait() // let the dispatcher drain mid-stream too
			}
		}
		synctest.Wait()
		if !slices.Equal(got.list(), want) {
			t.Errorf("delivered %v, want %v", got.list(), want)
		}
	})
}

func TestDispatcherCloseWaitsAndDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got names
		release := make(chan struct{})
		d := newDispatcher(func(ev Event) {
			got.add(ev.Member.Name)
			if ev.Member.Name == "first" {
				<-release
			}
		})
		d.push(named("first"))
		synctest.Wait() // the callback is now stuck in "first"
		d.push(named("second"))

		closed := make(chan struct{})
		go func() { d.close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("close returned while the callback was running")
		default:
		}
		close(release)
		<-closed

		d.push(named("late"))
		d.close() // idempotent
		synctest.Wait()
		if want := []string{"first"}; !slices.Equal(got.list(), want) {
			t.Errorf("delivered %v, want %v", got.list(), want)
		}
	})
}

func mlNode(name string, flags byte, meta string) *memberlist.Node {
	return &memberlist.Node{Name: name, Addr: net.IPv4(127, 0, 0, 1), Port: 7946, Meta: wrapMeta(flags, []byte(meta))}
}

func TestDelegateClassifiesEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []Event
		var mu sync.Mutex
		q := newDispatcher(func(ev Event) { mu.Lock(); got = append(got, ev); mu.Unlock() })
		defer q.close()
		d := &eventDelegate{table: newTable(time.Now), queue: q}

		d.NotifyJoin(mlNode("crash", 0, "a"))
		d.NotifyJoin(mlNode("quit", 0, "b"))
		d.NotifyUpdate(mlNode("crash", 0, "a2"))
		d.NotifyUpdate(mlNode("quit", flagLeaving, "b")) // only the flag: no event
		d.NotifyLeave(mlNode("crash", 0, "a2"))
		d.NotifyLeave(mlNode("quit", flagLeaving, "b"))
		synctest.Wait()

		want := []string{"join crash alive a", "join quit alive b", "update crash alive a2",
			"fail crash dead a2", "leave quit left b"}
		var have []string
		for _, ev := range got {
			have = append(have, fmt.Sprintf("%s %s %s %s", ev.Kind, ev.Member.Name, ev.Member.State, ev.Member.Meta))
		}
		if !slices.Equal(have, want) {
			t.Errorf("events\n got %q\nwant %q", have, want)
		}
		if ms := d.table.snapshot(); len(ms) != 2 || ms[0].State != Dead || ms[1].State != Left {
			t.Errorf("members %+v", ms)
		}
	})
}

func TestTableForgetsTheDeadAfterRetention(t *testing.T) {
	now := time.Unix(1000, 0)
	tab := newTable(func() time.Time { return now })
	tab.apply(Event{Kind: Join, Member: Member{Name: "live", State: Alive}})
	tab.apply(Event{Kind: Fail, Member: Member{Name: "dead", State: Dead}})

	now = now.Add(goneRetention)
	if ms := tab.snapshot(); len(ms) != 2 {
		t.Fatalf("at retention: %+v", ms)
	}
	now = now.Add(time.Nanosecond)
	if ms := tab.snapshot(); len(ms) != 1 || ms[0].Name != "live" {
		t.Fatalf("past retention: %+v", ms)
	}
}

func TestMetaEnvelope(t *testing.T) {
	flags, meta := unwrapMeta(wrapMeta(flagLeaving, []byte("x")))
	if flags != flagLeaving || string(meta) != "x" {
		t.Errorf("got %x %q", flags, meta)
	}
	if flags, meta := unwrapMeta(nil); flags != 0 || meta != nil {
		t.Errorf("empty: %x %q", flags, meta)
	}
	d := &metaDelegate{meta: make([]byte, MetaMaxSize)}
	if raw := d.NodeMeta(memberlist.MetaMaxSize); len(raw) != memberlist.MetaMaxSize {
		t.Errorf("largest metadata wraps to %d bytes", len(raw))
	}
}

func TestSplitMemberlistLine(t *testing.T) {
	for _, tc := range []struct{ in, level, msg string }{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", "DEBUG", "Stream connection from=127.0.0.1:1"},
		{"[ERR] Failed to shutdown transport: x\n", "ERR", "Failed to shutdown transport: x"},
		{"no level here\n", "", "no level here"},
		{"[broken", "", "[broken"},
	} {
		level, msg := splitMemberlistLine([]byte(tc.in))
		if level != tc.level || msg != tc.msg {
			t.Errorf("split(%q) = %q, %q", tc.in, level, msg)
		}
	}
}

// capture keeps every record it is handed.
type capture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.records = append(c.records, r.Clone())
	c.mu.Unlock()
	return nil
}

func TestMemberlistLogsThroughSlogAtDebug(t *testing.T) {
	var c capture
	g, err := New(Config{Name: "logged", BindAddr: "127.0.0.1", Logger: slog.New(&c)})
	if err != nil {
		t.Fatal(err)
	}
	g.Close()

	c.mu.Lock()
	defer c.mu.Unlock()
	fromMemberlist := 0
	for _, r := range c.records {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "component" && a.Value.String() == "memberlist" {
				fromMemberlist++
				if r.Level != slog.LevelDebug || r.Message == "" || r.Message[0] == '[' {
					t.Errorf("memberlist record at %s: %q", r.Level, r.Message)
				}
			}
			return true
		})
	}
	if fromMemberlist == 0 {
		t.Error("no memberlist log line reached slog")
	}
}
