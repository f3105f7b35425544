package master

import (
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/google/uuid"
)

// streamIDHeader is Mesos's header naming a framework's event stream.
const streamIDHeader = "Mesos-Stream-Id"

// Handler serves every master endpoint.
func (m *Master) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("/api/v1", m.serveOperator)
	mux.HandleFunc("/internal/v1/gossip", m.serveGossipSeeds)
	mux.HandleFunc("/internal/v1/status_update", m.serveStatusUpdate)
	for _, prefix := range []string{"", "/master"} {
		mux.HandleFunc(prefix+"/health", m.serveHealth)
		mux.HandleFunc(prefix+"/version", m.serveVersion)
		mux.HandleFunc(prefix+"/state", m.serveState)
		mux.HandleFunc(prefix+"/state.json", m.serveState)
		mux.HandleFunc(prefix+"/flags", m.serveFlags)
	}
	return mux
}

func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
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
	heartbeat := time.NewTicker(m.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	hb := &schedulerpb.Event{Type: schedulerpb.Event_HEARTBEAT.Enum()}
	for {
		select {
		case ev := <-s.q:
			if out.Send(ev) != nil {
				m.streamGone(s)
				return
			}
		case <-heartbeat.C:
			if out.Send(hb) != nil {
				m.streamGone(s)
				return
			}
		case <-s.done:
			// Ended by the loop: flush what it queued before ending us.
			for {
				select {
				case ev := <-s.q:
					if out.Send(ev) != nil {
						return
					}
				default:
					return
				}
			}
		case <-r.Context().Done():
			m.streamGone(s)
			return
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
