package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/recordio"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/test/cluster"
)

// rawScheduler is a framework spoken by hand: JSON over plain HTTP, the
// event stream read record by record, so a test can send what no SDK would.
type rawScheduler struct {
	t testing.TB // the test (or subtest) using it; see with
	*rawStream
}

// rawStream is the subscription a rawScheduler's copies share.
type rawStream struct {
	url      string
	hc       *http.Client
	streamID string
	fid      string

	mu      sync.Mutex
	events  []*schedulerpb.Event
	used    map[string]bool // offer ids already answered
	err     error           // why the stream ended
	ackErrs []error
}

// with returns the scheduler for use by a subtest.
func (s *rawScheduler) with(t testing.TB) *rawScheduler {
	return &rawScheduler{t: t, rawStream: s.rawStream}
}

// subscribeRaw subscribes a framework to the master at addr with JSON and
// reads its event stream until the test ends.
func subscribeRaw(t *testing.T, addr string) *rawScheduler {
	t.Helper()
	s := &rawScheduler{t: t, rawStream: &rawStream{url: "http://" + addr + "/api/v1/scheduler", used: map[string]bool{}}}
	s.hc = cluster.HTTPClient()
	s.hc.Timeout = 0 // the stream lives as long as the test
	body := `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"e2e-raw"}}}`
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", api.ContentTypeJSON)
	req.Header.Set("Accept", api.ContentTypeJSON)
	res, err := s.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("subscribe: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("subscribe: %s: %s", res.Status, b)
	}
	s.streamID = res.Header.Get("Mesos-Stream-Id")
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		r := recordio.NewReader(res.Body, recordio.DefaultMaxRecord)
		for {
			rec, err := r.Next()
			if err == nil {
				ev := &schedulerpb.Event{}
				err = api.JSON.Unmarshal(rec, ev)
				if err == nil {
					s.mu.Lock()
					s.events = append(s.events, ev)
					s.mu.Unlock()
					s.acknowledge(ev.GetUpdate().GetStatus())
					continue
				}
			}
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
	}()
	t.Cleanup(func() {
		s.call(&schedulerpb.Call{Type: schedulerpb.Call_TEARDOWN.Enum()})
		cancel()
		<-done
	})
	sub := s.await("SUBSCRIBED", func(ev *schedulerpb.Event) bool { return ev.GetType() == schedulerpb.Event_SUBSCRIBED })
	s.fid = sub.GetSubscribed().GetFrameworkId().GetValue()
	return s
}

// await waits for the first event that matches.
func (s *rawScheduler) await(what string, match func(*schedulerpb.Event) bool) *schedulerpb.Event {
	s.t.Helper()
	var found *schedulerpb.Event
	cluster.Eventually(s.t, startTimeout, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, ev := range s.events {
			if match(ev) {
				found = ev
				return nil
			}
		}
		if s.err != nil {
			return fmt.Errorf("stream ended (%v) before %s", s.err, what)
		}
		return fmt.Errorf("no %s among %d events, the last: %v", what, len(s.events), s.events[max(0, len(s.events)-5):])
	})
	return found
}

// offer returns an offer not used before and marks it used.
func (s *rawScheduler) offer() *mesospb.Offer {
	s.t.Helper()
	ev := s.await("a fresh offer", func(ev *schedulerpb.Event) bool {
		for _, o := range ev.GetOffers().GetOffers() {
			if !s.used[o.GetId().GetValue()] {
				return true
			}
		}
		return false
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range ev.GetOffers().GetOffers() {
		if !s.used[o.GetId().GetValue()] {
			s.used[o.GetId().GetValue()] = true
			return o
		}
	}
	panic("unreachable")
}

// update waits for a status update of task in state.
func (s *rawScheduler) update(task string, state mesospb.TaskState) *mesospb.TaskStatus {
	s.t.Helper()
	ev := s.await(fmt.Sprintf("%s for %s", state, task), func(ev *schedulerpb.Event) bool {
		st := ev.GetUpdate().GetStatus()
		return st.GetTaskId().GetValue() == task && st.GetState() == state
	})
	s.mu.Lock()
	for _, err := range s.ackErrs {
		s.t.Error(err)
	}
	s.ackErrs = nil
	s.mu.Unlock()
	return ev.GetUpdate().GetStatus()
}

// acknowledge acknowledges a status update that carries a uuid, as every
// framework must before the agent sends the task's next update. It runs on
// the stream's goroutine and keeps failures for the test to report.
func (s *rawStream) acknowledge(st *mesospb.TaskStatus) {
	if len(st.GetUuid()) == 0 {
		return
	}
	ack := &schedulerpb.Call{Type: schedulerpb.Call_ACKNOWLEDGE.Enum(),
		FrameworkId: &mesospb.FrameworkID{Value: proto.String(s.fid)},
		Acknowledge: &schedulerpb.Call_Acknowledge{AgentId: st.GetAgentId(), TaskId: st.GetTaskId(), Uuid: st.GetUuid()}}
	b, err := api.JSON.Marshal(ack)
	var code int
	var msg string
	if err == nil {
		code, msg, err = s.do(api.ContentTypeJSON, b)
	}
	if err == nil && code != http.StatusAccepted {
		err = fmt.Errorf("%d %s", code, msg)
	}
	if err != nil {
		s.mu.Lock()
		s.ackErrs = append(s.ackErrs, fmt.Errorf("acknowledge %s %s: %w", st.GetTaskId().GetValue(), st.GetState(), err))
		s.mu.Unlock()
	}
}

// accept launches tasks on offers; unused resources come back at once.
func (s *rawScheduler) accept(offers []*mesospb.OfferID, tasks ...*mesospb.TaskInfo) (int, string) {
	return s.call(&schedulerpb.Call{Type: schedulerpb.Call_ACCEPT.Enum(), Accept: &schedulerpb.Call_Accept{
		OfferIds: offers,
		Operations: []*mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_LAUNCH.Enum(),
			Launch: &mesospb.Offer_Operation_Launch{TaskInfos: tasks}}},
		Filters: refuse(0),
	}})
}

// call sends a call as JSON on the framework's stream.
func (s *rawScheduler) call(c *schedulerpb.Call) (int, string) {
	s.t.Helper()
	if c.FrameworkId == nil && s.fid != "" {
		c.FrameworkId = &mesospb.FrameworkID{Value: proto.String(s.fid)}
	}
	b, err := api.JSON.Marshal(c)
	if err != nil {
		s.t.Fatalf("encode %s: %v", c.GetType(), err)
	}
	return s.post(api.ContentTypeJSON, b)
}

// post sends a raw body; it returns the status and the response text.
func (s *rawScheduler) post(contentType string, body []byte) (int, string) {
	s.t.Helper()
	code, msg, err := s.do(contentType, body)
	if err != nil {
		s.t.Fatalf("post: %v", err)
	}
	return code, msg
}

func (s *rawStream) do(contentType string, body []byte) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", api.ContentTypeJSON)
	if s.streamID != "" {
		req.Header.Set("Mesos-Stream-Id", s.streamID)
	}
	hc := cluster.HTTPClient()
	hc.Timeout = 30 * time.Second
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(msg), nil
}
