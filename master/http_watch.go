package master

import (
	"net/http"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// watch serves the operator SUBSCRIBE stream: SUBSCRIBED with the whole
// state, then an event for every change, and HEARTBEAT every heartbeat
// interval. The snapshot and the registration happen in one loop turn, so
// no change falls between them.
func (m *Master) watch(w http.ResponseWriter, r *http.Request, codec api.Codec) {
	s := newStream(uuid.NewString(), "", m.cfg.StreamQueue)
	ok := m.do(r.Context(), func() {
		m.watchers[s.id] = s
		m.core.watchers = len(m.watchers)
		s.enqueue(&masterpb.Event{
			Type: masterpb.Event_SUBSCRIBED.Enum(),
			Subscribed: &masterpb.Event_Subscribed{
				GetState:                 m.core.viewState(),
				HeartbeatIntervalSeconds: proto.Float64(m.cfg.HeartbeatInterval.Seconds()),
			},
		})
	})
	if !ok {
		endpoint.Error(w, errShuttingDown)
		return
	}
	out, err := endpoint.OpenStream(w, codec, nil)
	if err != nil {
		m.post(func() { m.endWatcher(s) })
		return
	}
	defer out.Close()
	hb := &masterpb.Event{Type: masterpb.Event_HEARTBEAT.Enum()}
	if !m.pump(r, s, out, hb) {
		m.post(func() { m.endWatcher(s) })
	}
}

// endWatcher forgets an operator stream (loop goroutine).
func (m *Master) endWatcher(s *stream) {
	delete(m.watchers, s.id)
	m.core.watchers = len(m.watchers)
	s.end()
}
