package endpoint

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
)

// MaxBodyBytes bounds a request body; larger bodies are answered 413.
const MaxBodyBytes = 16 << 20

// Decode applies the Mesos transport rules to a v1 call: POST only (405),
// Content-Type present (400) and supported (415), Accept satisfiable (406),
// body at most MaxBodyBytes (413), then unmarshals the body into msg (400,
// with the decoder's message). It returns the codec for the response.
// Every error is an *api.HTTPError.
func Decode(r *http.Request, msg proto.Message) (api.Codec, error) {
	if r.Method != http.MethodPost {
		return nil, &api.HTTPError{Status: http.StatusMethodNotAllowed,
			Msg: fmt.Sprintf("expecting a 'POST' request, received '%s'", r.Method)}
	}
	reqCodec, err := api.RequestCodec(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	respCodec, err := api.ResponseCodec(r.Header.Get("Accept"))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &api.HTTPError{Status: http.StatusRequestEntityTooLarge,
				Msg: fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)}
		}
		return nil, &api.HTTPError{Status: http.StatusBadRequest, Msg: "read request body: " + err.Error()}
	}
	if err := reqCodec.Unmarshal(body, msg); err != nil {
		return nil, &api.HTTPError{Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("Failed to parse body into %s: %v", msg.ProtoReflect().Descriptor().Name(), err)}
	}
	return respCodec, nil
}

// Error answers with err's status when it is an *api.HTTPError and 500
// otherwise, the message as text/plain (Mesos's error bodies are plain text).
func Error(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var he *api.HTTPError
	if errors.As(err, &he) {
		status = he.Status
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, err.Error())
}

// Errorf is Error for a new *api.HTTPError.
func Errorf(w http.ResponseWriter, status int, format string, args ...any) {
	Error(w, &api.HTTPError{Status: status, Msg: fmt.Sprintf(format, args...)})
}

// Reply writes msg with codec c and the given status. A marshalling failure is
// a server bug and is answered 500.
func Reply(w http.ResponseWriter, c api.Codec, status int, msg proto.Message) {
	b, err := c.Marshal(msg)
	if err != nil {
		Error(w, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", c.ContentType())
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
