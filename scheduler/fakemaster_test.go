package scheduler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

// fakeMaster speaks the master's side of the scheduler API: SUBSCRIBE
// streams with Mesos-Stream-Id, 202 for calls on the current stream, 400
// for calls with a wrong stream id, and a configurable rejection.
type fakeMaster struct {
	t         testing.TB
	srv       *httptest.Server
	subs      chan *schedulerpb.Call
	calls     chan *schedulerpb.Call
	heartbeat float64
	reject    atomic.Pointer[string] // answer calls 400 with this text

	mu       sync.Mutex
	stream   *endpoint.Stream
	streamID string
	streams  int
}

func newFakeMaster(t testing.TB) *fakeMaster {
	m := &fakeMaster{
		t:         t,
		subs:      make(chan *schedulerpb.Call, 16),
		calls:     make(chan *schedulerpb.Call, 64),
		heartbeat: 15,
	}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(func() {
		m.drop()
		m.srv.Close()
	})
	return m
}

func (m *fakeMaster) addr() string { return strings.TrimPrefix(m.srv.URL, "http://") }

func (m *fakeMaster) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != apiPath {
		http.NotFound(w, r)
		return
	}
	call := &schedulerpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		if r.Header.Get(streamHeader) != "" {
			endpoint.Errorf(w, http.StatusBadRequest, "SUBSCRIBE must not carry %s", streamHeader)
			return
		}
		m.subscribe(w, r, call, codec)
		return
	}
	m.mu.Lock()
	want := m.streamID
	m.mu.Unlock()
	if got := r.Header.Get(streamHeader); got != want {
		endpoint.Errorf(w, http.StatusBadRequest, "stream id %q is not the subscribed stream %q", got, want)
		return
	}
	if msg := m.reject.Load(); msg != nil {
		endpoint.Errorf(w, http.StatusBadRequest, "%s", *msg)
		return
	}
	m.calls <- call
	w.WriteHeader(http.StatusAccepted)
}

func (m *fakeMaster) subscribe(w http.ResponseWriter, r *http.Request, call *schedulerpb.Call, codec api.Codec) {
	fwID := call.GetFrameworkId().GetValue()
	if fwID == "" {
		fwID = "master-0000"
	}
	m.mu.Lock()
	if m.stream != nil {
		m.stream.Close()
	}
	m.streams++
	id := fmt.Sprintf("stream-%d", m.streams)
	s, err := endpoint.OpenStream(w, codec, http.Header{streamHeader: {id}})
	if err != nil {
		m.mu.Unlock()
		return
	}
	m.stream, m.streamID = s, id
	_ = s.Send(&schedulerpb.Event{
		Type: schedulerpb.Event_SUBSCRIBED.Enum(),
		Subscribed: &schedulerpb.Event_Subscribed{
			FrameworkId:              &mesospb.FrameworkID{Value: &fwID},
			HeartbeatIntervalSeconds: &m.heartbeat,
			MasterInfo:               &mesospb.MasterInfo{Id: proto.String("master"), Ip: proto.Uint32(0x7f000001), Port: proto.Uint32(5050)},
		},
	})
	m.mu.Unlock()
	m.subs <- call
	select {
	case <-s.Done():
	case <-r.Context().Done():
		s.Close()
	}
}

func (m *fakeMaster) send(ev *schedulerpb.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		m.t.Errorf("no stream to send %s on", ev.GetType())
		return
	}
	if err := m.stream.Send(ev); err != nil {
		m.t.Errorf("send %s: %v", ev.GetType(), err)
	}
}

// drop ends the current stream, as a failing master would.
func (m *fakeMaster) drop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream != nil {
		m.stream.Close()
		m.stream = nil
	}
}

// waitTimeout only bounds a hung test; no assertion depends on it.
const waitTimeout = 20 * time.Second

func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func offerEvent(id string) *schedulerpb.Event {
	return &schedulerpb.Event{
		Type: schedulerpb.Event_OFFERS.Enum(),
		Offers: &schedulerpb.Event_Offers{Offers: []*mesospb.Offer{{
			Id:          &mesospb.OfferID{Value: &id},
			FrameworkId: &mesospb.FrameworkID{Value: proto.String("master-0000")},
			AgentId:     &mesospb.AgentID{Value: proto.String("master-S0")},
			Hostname:    proto.String("localhost"),
		}}},
	}
}

func updateEvent(task string, state mesospb.TaskState, uuid []byte) *schedulerpb.Event {
	return &schedulerpb.Event{
		Type: schedulerpb.Event_UPDATE.Enum(),
		Update: &schedulerpb.Event_Update{Status: &mesospb.TaskStatus{
			TaskId:  &mesospb.TaskID{Value: &task},
			State:   state.Enum(),
			AgentId: &mesospb.AgentID{Value: proto.String("master-S0")},
			Uuid:    uuid,
		}},
	}
}
