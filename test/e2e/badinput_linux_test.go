package e2e

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

// TestBadInput sends a running master what a buggy or hostile framework
// might, over raw HTTP, and checks each is refused the Mesos way without
// disturbing anything else.
func TestBadInput(t *testing.T) {
	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	e.startAgent("agent", 1, masterAddr)
	e.waitAgents(0, 1)
	raw := subscribeRaw(t, masterAddr)

	t.Run("malformed JSON", func(t *testing.T) {
		s := raw.with(t)
		code, msg := s.post(api.ContentTypeJSON, []byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":`))
		if code != http.StatusBadRequest || strings.TrimSpace(msg) == "" {
			t.Errorf("malformed JSON: %d %q, want 400 naming the problem", code, msg)
		}
		t.Logf("malformed JSON: %d %s", code, strings.TrimSpace(msg))
	})
	t.Run("unknown call type", func(t *testing.T) {
		s := raw.with(t)
		code, msg := s.post(api.ContentTypeJSON, []byte(`{"type":"FROBNICATE","framework_id":{"value":"`+s.fid+`"}}`))
		if code != http.StatusBadRequest {
			t.Errorf("unknown call type: %d %q, want 400", code, msg)
		}
		t.Logf("unknown call type: %d %s", code, strings.TrimSpace(msg))
	})
	t.Run("launch larger than the offer", func(t *testing.T) {
		s := raw.with(t)
		o := s.offer()
		task := commandTask("too-big", o, scalarOf(o.GetResources(), "cpus")+1, 16, "true")
		if code, msg := s.accept([]*mesospb.OfferID{o.GetId()}, task); code != http.StatusAccepted {
			t.Fatalf("accept: %d %s", code, msg)
		}
		st := s.update("too-big", mesospb.TaskState_TASK_ERROR)
		t.Logf("too big: %s %s: %s", st.GetState(), st.GetReason(), st.GetMessage())
	})
	t.Run("unknown offer", func(t *testing.T) {
		s := raw.with(t)
		o := s.offer() // for its agent id; it is given back unused below
		bogus := &mesospb.OfferID{Value: proto.String(o.GetId().GetValue() + "-bogus")}
		if code, msg := s.accept([]*mesospb.OfferID{bogus}, commandTask("no-offer", o, 0.1, 16, "true")); code != http.StatusAccepted {
			t.Fatalf("accept: %d %s", code, msg)
		}
		st := s.update("no-offer", mesospb.TaskState_TASK_LOST)
		if st.GetReason() != mesospb.TaskStatus_REASON_INVALID_OFFERS {
			t.Errorf("unknown offer: %s with %s, want REASON_INVALID_OFFERS", st.GetState(), st.GetReason())
		}
		decline(t, s, o)
	})
	t.Run("duplicate task id", func(t *testing.T) {
		s := raw.with(t)
		o := s.offer()
		if code, msg := s.accept([]*mesospb.OfferID{o.GetId()}, commandTask("dup", o, 0.1, 16, "sleep 600")); code != http.StatusAccepted {
			t.Fatalf("accept: %d %s", code, msg)
		}
		s.update("dup", mesospb.TaskState_TASK_RUNNING)
		o = s.offer()
		if code, msg := s.accept([]*mesospb.OfferID{o.GetId()}, commandTask("dup", o, 0.1, 16, "true")); code != http.StatusAccepted {
			t.Fatalf("accept: %d %s", code, msg)
		}
		st := s.update("dup", mesospb.TaskState_TASK_ERROR)
		t.Logf("duplicate: %s %s: %s", st.GetState(), st.GetReason(), st.GetMessage())
		if state := masterTaskState(t, e, "dup"); state != mesospb.TaskState_TASK_RUNNING {
			t.Errorf("the first task named dup is %s after the duplicate, want TASK_RUNNING", state)
		}
	})
	t.Run("negative resources", func(t *testing.T) {
		s := raw.with(t)
		o := s.offer()
		code, msg := s.accept([]*mesospb.OfferID{o.GetId()}, commandTask("negative", o, -1, 16, "true"))
		switch code {
		case http.StatusBadRequest:
			t.Logf("negative cpus: 400 %s", strings.TrimSpace(msg))
			decline(t, s, o)
		case http.StatusAccepted:
			st := s.update("negative", mesospb.TaskState_TASK_ERROR)
			t.Logf("negative cpus: %s %s: %s", st.GetState(), st.GetReason(), st.GetMessage())
		default:
			t.Errorf("negative cpus: %d %s, want 400 or TASK_ERROR", code, msg)
		}
	})
	t.Run("NaN resources", func(t *testing.T) {
		s := raw.with(t)
		// JSON has no NaN; protobuf carries one.
		o := s.offer()
		call := &schedulerpb.Call{
			FrameworkId: &mesospb.FrameworkID{Value: proto.String(s.fid)},
			Type:        schedulerpb.Call_ACCEPT.Enum(),
			Accept: &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{o.GetId()},
				Operations: []*mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_LAUNCH.Enum(),
					Launch: &mesospb.Offer_Operation_Launch{TaskInfos: []*mesospb.TaskInfo{
						commandTask("nan", o, math.NaN(), 16, "true")}}}},
				Filters: refuse(0)},
		}
		b, err := api.Protobuf.Marshal(call)
		if err != nil {
			t.Fatal(err)
		}
		code, msg := s.post(api.ContentTypeProtobuf, b)
		switch code {
		case http.StatusBadRequest:
			t.Logf("NaN cpus: 400 %s", strings.TrimSpace(msg))
			decline(t, s, o)
		case http.StatusAccepted:
			st := s.update("nan", mesospb.TaskState_TASK_ERROR)
			t.Logf("NaN cpus: %s %s: %s", st.GetState(), st.GetReason(), st.GetMessage())
		default:
			t.Errorf("NaN cpus: %d %s, want 400 or TASK_ERROR", code, msg)
		}
	})
	t.Run("a normal task still runs", func(t *testing.T) {
		s := raw.with(t)
		o := s.offer()
		if code, msg := s.accept([]*mesospb.OfferID{o.GetId()}, commandTask("normal", o, 0.1, 16, "true")); code != http.StatusAccepted {
			t.Fatalf("accept: %d %s", code, msg)
		}
		s.update("normal", mesospb.TaskState_TASK_FINISHED)
	})
}

// decline gives an offer back at once.
func decline(t *testing.T, s *rawScheduler, o *mesospb.Offer) {
	t.Helper()
	code, msg := s.call(&schedulerpb.Call{Type: schedulerpb.Call_DECLINE.Enum(),
		Decline: &schedulerpb.Call_Decline{OfferIds: []*mesospb.OfferID{o.GetId()}, Filters: refuse(0)}})
	if code != http.StatusAccepted {
		t.Fatalf("decline: %d %s", code, msg)
	}
}

// masterTaskState is the state the master's operator API reports for a task
// (the non-terminal one when both exist).
func masterTaskState(t *testing.T, e *env, id string) mesospb.TaskState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.operator(0).Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range res.GetTasks() {
		if task.GetTaskId().GetValue() == id {
			return task.GetState()
		}
	}
	return mesospb.TaskState_TASK_UNKNOWN
}
