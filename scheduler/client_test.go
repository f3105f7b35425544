package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

func testConfig(t *testing.T, masters ...string) Config {
	return Config{
		Masters:       masters,
		FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("root"), Name: proto.String("sdk-test")},
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		MinBackoff:    10 * time.Millisecond,
		MaxBackoff:    50 * time.Millisecond,
	}
}

// runClient runs c.Run(h) until the test ends and returns Run's result
// channel.
func runClient(t *testing.T, c *Client, h Handler) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		done <- c.Run(ctx, h)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	return done
}

// events forwards every event to a channel.
func events() (Handler, <-chan *schedulerpb.Event) {
	ch := make(chan *schedulerpb.Event, 64)
	return HandlerFunc(func(_ context.Context, ev *schedulerpb.Event) error {
		ch <- ev
		return nil
	}), ch
}

func TestSubscribeOfferLaunchUpdateAck(t *testing.T) {
	for _, codec := range []api.Codec{api.Protobuf, api.JSON} {
		t.Run(codec.ContentType(), func(t *testing.T) {
			m := newFakeMaster(t)
			cfg := testConfig(t, m.addr())
			cfg.Codec = codec
			c := New(cfg)
			updates := make(chan *mesospb.TaskStatus, 4)
			runClient(t, c, HandlerFunc(func(ctx context.Context, ev *schedulerpb.Event) error {
				switch ev.GetType() {
				case schedulerpb.Event_OFFERS:
					o := ev.GetOffers().GetOffers()[0]
					task := &mesospb.TaskInfo{
						Name:    proto.String("t1"),
						TaskId:  &mesospb.TaskID{Value: proto.String("t1")},
						AgentId: o.GetAgentId(),
						Command: &mesospb.CommandInfo{Value: proto.String("true")},
					}
					return c.Launch(ctx, []*mesospb.OfferID{o.GetId()}, []*mesospb.TaskInfo{task}, nil)
				case schedulerpb.Event_UPDATE:
					updates <- ev.GetUpdate().GetStatus()
				}
				return nil
			}))
			sub := recv(t, m.subs, "SUBSCRIBE")
			if sub.GetSubscribe().GetFrameworkInfo().GetName() != "sdk-test" || sub.GetFrameworkId() != nil {
				t.Fatalf("first SUBSCRIBE = %v", sub)
			}
			m.send(offerEvent("O1"))
			accept := recv(t, m.calls, "ACCEPT")
			if accept.GetType() != schedulerpb.Call_ACCEPT || accept.GetFrameworkId().GetValue() != "master-0000" {
				t.Fatalf("call = %v, want ACCEPT from master-0000", accept)
			}
			ops := accept.GetAccept().GetOperations()
			if accept.GetAccept().GetOfferIds()[0].GetValue() != "O1" || len(ops) != 1 ||
				ops[0].GetType() != mesospb.Offer_Operation_LAUNCH || ops[0].GetLaunch().GetTaskInfos()[0].GetTaskId().GetValue() != "t1" {
				t.Fatalf("ACCEPT = %v, want a LAUNCH of t1 on O1", accept.GetAccept())
			}
			if got := c.FrameworkID(); got != "master-0000" {
				t.Fatalf("FrameworkID() = %q", got)
			}
			if !c.Connected() {
				t.Fatal("Connected() = false while subscribed")
			}
			uuid := []byte("0123456789abcdef")
			m.send(updateEvent("t1", mesospb.TaskState_TASK_RUNNING, uuid))
			if st := recv(t, updates, "UPDATE"); st.GetState() != mesospb.TaskState_TASK_RUNNING {
				t.Fatalf("handler saw %v", st)
			}
			ack := recv(t, m.calls, "ACKNOWLEDGE")
			a := ack.GetAcknowledge()
			if ack.GetType() != schedulerpb.Call_ACKNOWLEDGE || string(a.GetUuid()) != string(uuid) ||
				a.GetTaskId().GetValue() != "t1" || a.GetAgentId().GetValue() != "master-S0" {
				t.Fatalf("call = %v, want ACKNOWLEDGE of the update", ack)
			}
			// An update without uuid (reconciliation) is not acknowledged.
			m.send(updateEvent("t1", mesospb.TaskState_TASK_RUNNING, nil))
			recv(t, updates, "unreliable UPDATE")
			if err := c.Revive(context.Background()); err != nil {
				t.Fatal(err)
			}
			if call := recv(t, m.calls, "REVIVE"); call.GetType() != schedulerpb.Call_REVIVE {
				t.Fatalf("call after an unreliable update = %s, want REVIVE (no ACKNOWLEDGE)", call.GetType())
			}
		})
	}
}

func TestFollowsRedirectToLeader(t *testing.T) {
	leader := newFakeMaster(t)
	var standbyHits atomic.Int32
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		standbyHits.Add(1)
		w.Header().Set("Location", "//"+leader.addr()+apiPath)
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	t.Cleanup(standby.Close)
	c := New(testConfig(t, strings.TrimPrefix(standby.URL, "http://")))
	h, evs := events()
	runClient(t, c, h)
	recv(t, leader.subs, "SUBSCRIBE at the leader")
	recv(t, evs, "SUBSCRIBED")
	if err := c.Decline(context.Background(), []*mesospb.OfferID{{Value: proto.String("O1")}}, &mesospb.Filters{RefuseSeconds: proto.Float64(1)}); err != nil {
		t.Fatal(err)
	}
	if call := recv(t, leader.calls, "DECLINE"); call.GetType() != schedulerpb.Call_DECLINE {
		t.Fatalf("leader got %s, want DECLINE", call.GetType())
	}
	if n := standbyHits.Load(); n != 1 {
		t.Fatalf("standby got %d requests, want only the first SUBSCRIBE", n)
	}
	if c.Leader() != leader.addr() {
		t.Fatalf("Leader() = %q, want %q", c.Leader(), leader.addr())
	}
}

func TestResubscribesWithSameFrameworkID(t *testing.T) {
	m := newFakeMaster(t)
	c := New(testConfig(t, m.addr()))
	h, evs := events()
	runClient(t, c, h)
	recv(t, m.subs, "SUBSCRIBE")
	recv(t, evs, "SUBSCRIBED")
	m.drop()
	sub := recv(t, m.subs, "re-SUBSCRIBE")
	if sub.GetFrameworkId().GetValue() != "master-0000" || sub.GetSubscribe().GetFrameworkInfo().GetId().GetValue() != "master-0000" {
		t.Fatalf("re-SUBSCRIBE = %v, want framework id master-0000 at top level and in framework_info", sub)
	}
	recv(t, evs, "second SUBSCRIBED")
	// Calls now carry the new stream id (the fake master answers 400 to the old one).
	if err := c.Suppress(context.Background(), "*"); err != nil {
		t.Fatal(err)
	}
	if call := recv(t, m.calls, "SUPPRESS"); call.GetSuppress().GetRoles()[0] != "*" {
		t.Fatalf("SUPPRESS = %v", call)
	}
}

func TestHeartbeatTimeoutResubscribes(t *testing.T) {
	m := newFakeMaster(t)
	m.heartbeat = 0.02 // the master then goes silent without closing the stream
	c := New(testConfig(t, m.addr()))
	h, _ := events()
	runClient(t, c, h)
	recv(t, m.subs, "SUBSCRIBE")
	sub := recv(t, m.subs, "SUBSCRIBE after missed heartbeats")
	if sub.GetFrameworkId().GetValue() != "master-0000" {
		t.Fatalf("re-SUBSCRIBE framework id = %q", sub.GetFrameworkId().GetValue())
	}
}

func TestCallErrorCarriesMastersMessage(t *testing.T) {
	m := newFakeMaster(t)
	c := New(testConfig(t, m.addr()))
	h, evs := events()
	runClient(t, c, h)
	recv(t, evs, "SUBSCRIBED")
	msg := "Offer O9 is no longer valid"
	m.reject.Store(&msg)
	err := c.Accept(context.Background(), []*mesospb.OfferID{{Value: proto.String("O9")}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), msg) || api.StatusOf(err, 0) != http.StatusBadRequest {
		t.Fatalf("Accept error = %v (status %d), want 400 with %q", err, api.StatusOf(err, 0), msg)
	}
}

func TestCallBeforeSubscribe(t *testing.T) {
	c := New(testConfig(t, "127.0.0.1:1"))
	if err := c.Teardown(context.Background()); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Teardown before subscribing = %v, want ErrNotConnected", err)
	}
}

func TestHandlerErrorEndsRun(t *testing.T) {
	m := newFakeMaster(t)
	c := New(testConfig(t, m.addr()))
	stop := errors.New("done with the work")
	done := runClient(t, c, HandlerFunc(func(context.Context, *schedulerpb.Event) error { return stop }))
	if err := recv(t, done, "Run's return"); !errors.Is(err, stop) {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
	if c.Connected() {
		t.Fatal("Connected() = true after Run returned")
	}
}

// A Timeout on the caller's HTTP client bounds calls but must not cut the
// long-lived event stream.
func TestClientTimeoutDoesNotCutStream(t *testing.T) {
	m := newFakeMaster(t)
	cfg := testConfig(t, m.addr())
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	c := New(cfg)
	h, evs := events()
	runClient(t, c, h)
	recv(t, evs, "SUBSCRIBED")
	time.Sleep(200 * time.Millisecond) // well past the client's Timeout
	m.send(offerEvent("O1"))
	if ev := recv(t, evs, "OFFERS"); ev.GetType() != schedulerpb.Event_OFFERS {
		t.Fatalf("event = %s, want OFFERS on the first stream", ev.GetType())
	}
	m.mu.Lock()
	n := m.streams
	m.mu.Unlock()
	if n != 1 {
		t.Fatalf("master saw %d SUBSCRIBEs, want the first stream to survive", n)
	}
}

func TestRunRejectsIncompleteConfig(t *testing.T) {
	c := New(Config{Masters: []string{"127.0.0.1:1"}, FrameworkInfo: &mesospb.FrameworkInfo{Name: proto.String("no user")}})
	if err := c.Run(context.Background(), HandlerFunc(nil)); err == nil || !strings.Contains(err.Error(), "user") {
		t.Fatalf("Run = %v, want an error about framework_info.user", err)
	}
	c = New(testConfig(t))
	if err := c.Run(context.Background(), HandlerFunc(nil)); err == nil || !strings.Contains(err.Error(), "masters") {
		t.Fatalf("Run = %v, want an error about masters", err)
	}
}
