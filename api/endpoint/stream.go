package endpoint

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/recordio"
)

// WriteTimeout bounds one record's write; a client that stops reading for
// longer is cut off rather than allowed to block its producer.
const WriteTimeout = 10 * time.Second

// ErrStreamClosed is returned by Send after Close or a failed write.
var ErrStreamClosed = errors.New("stream closed")

// Stream is an open RecordIO event stream: a 200 response, chunked, whose
// Content-Type is the codec's, carrying one record per event. The handler
// that opened it must not return until the stream is done (see Done), since a
// ResponseWriter cannot be used after its handler returns.
type Stream struct {
	mu     sync.Mutex
	rec    *recordio.Writer
	rc     *http.ResponseController
	codec  api.Codec
	closed bool
	done   chan struct{}
}

// OpenStream writes the stream's headers (plus extra, e.g. Mesos-Stream-Id)
// and flushes them at once, as Mesos clients wait for them.
func OpenStream(w http.ResponseWriter, c api.Codec, extra http.Header) (*Stream, error) {
	h := w.Header()
	for k, vs := range extra {
		h[k] = vs
	}
	h.Set("Content-Type", c.ContentType())
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s := &Stream{rec: recordio.NewWriter(w), rc: http.NewResponseController(w), codec: c, done: make(chan struct{})}
	if err := s.rc.Flush(); err != nil {
		return nil, fmt.Errorf("flush stream headers: %w", err)
	}
	return s, nil
}

// Codec is the stream's codec.
func (s *Stream) Codec() api.Codec { return s.codec }

// Send encodes msg as one record, writes it with a single write and flushes.
// It is safe for concurrent use. A failed write closes the stream.
func (s *Stream) Send(msg proto.Message) error {
	b, err := s.codec.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return s.SendRaw(b)
}

// SendRaw writes an already encoded record (so one event encoded once can go
// to many streams of the same codec).
func (s *Stream) SendRaw(record []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStreamClosed
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if err := s.rec.Write(record); err != nil {
		s.closeLocked()
		return fmt.Errorf("send event: %w", err)
	}
	return nil
}

// Close ends the stream; the handler blocked on Done may return. Idempotent.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *Stream) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// Done is closed when the stream was closed (by Close or a failed write).
func (s *Stream) Done() <-chan struct{} { return s.done }
