package master

import (
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// streamIDHeader is Mesos's header naming a framework's event stream.
const streamIDHeader = "Mesos-Stream-Id"

// Handler serves every master endpoint.
func (m *Master) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("/api/v1", m.serveOperator)
	mux.HandleFunc("/api/v1/{$}", m.serveOperator) // Mesos accepts the trailing slash
	mux.HandleFunc("/internal/v1/gossip", m.serveGossipSeeds)
	mux.HandleFunc("/internal/v1/status_update", m.serveStatusUpdate)
	mux.HandleFunc("/internal/v1/executor_message", m.serveExecutorMessage)
	mux.HandleFunc("/internal/v1/executor_exited", m.serveExecutorExited)
	for path, h := range m.legacyRoutes() {
		mux.HandleFunc(path, h)
		mux.HandleFunc("/master"+path, h)
	}
	return mux
}

func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
	// Only the leader serves frameworks, whatever the body says.
	if m.redirectToLeader(w, r) {
		return
	}
	call := &schedulerpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	header := r.Header.Get(streamIDHeader)
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		if header != "" {
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting no '%s' header for a SUBSCRIBE call", streamIDHeader)
			return
		}
		if call.Subscribe == nil {
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting 'subscribe' to be present")
			return
		}
		m.subscribe(w, r, call, codec)
		return
	}
	if header == "" {
		endpoint.Errorf(w, http.StatusBadRequest, "All non-subscribe calls should include the '%s' header", streamIDHeader)
		return
	}
	var callErr error
	if !m.do(r.Context(), func() { callErr = m.core.Call(call, header, time.Now()) }) {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "master is shutting down")
		return
	}
	if callErr != nil {
		endpoint.Error(w, callErr)
		return
	}
	if call.GetType() == schedulerpb.Call_UPDATE_FRAMEWORK {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// subscribe registers the stream with the loop, then writes the stream's
// events from this goroutine until the loop ends it or the client leaves.
func (m *Master) subscribe(w http.ResponseWriter, r *http.Request, call *schedulerpb.Call, codec api.Codec) {
	id := uuid.NewString()
	s := newStream(id, "", m.cfg.StreamQueue)
	var subErr error
	ok := m.do(r.Context(), func() {
		m.streams[id] = s
		var fid ids.FrameworkID
		fid, subErr = m.core.Subscribe(call, id, time.Now())
		if subErr != nil {
			delete(m.streams, id)
			return
		}
		s.fw = fid
	})
	if !ok {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "master is shutting down")
		return
	}
	if subErr != nil {
		endpoint.Error(w, subErr)
		return
	}
	out, err := endpoint.OpenStream(w, codec, http.Header{streamIDHeader: {id}})
	if err != nil {
		m.streamGone(s)
		return
	}
	defer out.Close()
	hb := &schedulerpb.Event{Type: schedulerpb.Event_HEARTBEAT.Enum()}
	if !m.pump(r, s, out, hb) {
		m.streamGone(s)
	}
}

// pump writes s's events to out, with hb every heartbeat interval, until
// the loop ends s (true) or the client leaves or a write fails (false).
func (m *Master) pump(r *http.Request, s *stream, out *endpoint.Stream, hb proto.Message) bool {
	heartbeat := time.NewTicker(m.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case ev := <-s.q:
			if out.Send(ev) != nil {
				return false
			}
		case <-heartbeat.C:
			if out.Send(hb) != nil {
				return false
			}
		case <-s.done:
			// Ended by the loop: flush what it queued before ending us.
			for {
				select {
				case ev := <-s.q:
					if out.Send(ev) != nil {
						return true
					}
				default:
					return true
				}
			}
		case <-r.Context().Done():
			return false
		}
	}
}

// streamGone tells the loop the client side of s is gone.
func (m *Master) streamGone(s *stream) {
	m.post(func() {
		if cur, ok := m.streams[s.id]; ok && cur == s {
			delete(m.streams, s.id)
		}
		s.end()
		m.core.StreamClosed(s.id, time.Now())
	})
}
