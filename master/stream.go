package master

import (
	"sync"

	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// stream is one event stream (a framework's, or an operator's) as the loop
// sees it: a bounded queue drained by the SUBSCRIBE handler's goroutine,
// which writes the events to the HTTP response. The loop never blocks on
// it: a full queue means the reader stopped reading and the stream is
// closed.
type stream struct {
	id string
	fw ids.FrameworkID
	q  chan proto.Message

	once sync.Once
	done chan struct{} // closed by end: write what is queued, then stop
}

func newStream(id string, fw ids.FrameworkID, size int) *stream {
	return &stream{id: id, fw: fw, q: make(chan proto.Message, size), done: make(chan struct{})}
}

// enqueue adds ev without blocking; false when the queue is full.
func (s *stream) enqueue(ev proto.Message) bool {
	select {
	case s.q <- ev:
		return true
	default:
		return false
	}
}

// end asks the writer to finish; idempotent.
func (s *stream) end() { s.once.Do(func() { close(s.done) }) }
