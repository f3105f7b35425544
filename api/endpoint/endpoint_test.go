package endpoint

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/recordio"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

func decodeServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call schedulerpb.Call
		c, err := Decode(r, &call)
		if err != nil {
			Error(w, err)
			return
		}
		Reply(w, c, http.StatusOK, &call)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDecodeTransportRules(t *testing.T) {
	srv := decodeServer(t)
	cases := []struct {
		name, method, ctype, accept, body string
		status                            int
		respType                          string
	}{
		{"json", "POST", "application/json", "application/json", `{"type":"TEARDOWN"}`, 200, "application/json"},
		{"no accept is json", "POST", "application/json", "", `{"type":"TEARDOWN"}`, 200, "application/json"},
		{"protobuf reply", "POST", "application/json", "application/x-protobuf", `{"type":"TEARDOWN"}`, 200, "application/x-protobuf"},
		{"GET", "GET", "application/json", "", ``, 405, ""},
		{"no content type", "POST", "", "", `{"type":"TEARDOWN"}`, 400, ""},
		{"unsupported content type", "POST", "text/plain", "", `x`, 415, ""},
		{"unsupported accept", "POST", "application/json", "text/html", `{"type":"TEARDOWN"}`, 406, ""},
		{"malformed", "POST", "application/json", "", `{"type":`, 400, ""},
		{"wrong field type", "POST", "application/json", "", `{"type":"ACCEPT","accept":{"offer_ids":"x"}}`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL, strings.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, body, c.status)
			}
			if c.respType != "" && res.Header.Get("Content-Type") != c.respType {
				t.Errorf("Content-Type %q, want exactly %q", res.Header.Get("Content-Type"), c.respType)
			}
			if c.status >= 400 && len(body) == 0 {
				t.Errorf("error reply has no message")
			}
		})
	}
}

func TestDecodeRejectsOversizeBodies(t *testing.T) {
	srv := decodeServer(t)
	big := `{"type":"TEARDOWN","pad":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	res, err := http.Post(srv.URL, "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
}

func TestStreamFramesOneRecordPerEvent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := OpenStream(w, api.JSON, http.Header{"Mesos-Stream-Id": {"abc"}})
		if err != nil {
			t.Error(err)
			return
		}
		for i := 0; i < 3; i++ {
			ev := &schedulerpb.Event{Type: schedulerpb.Event_HEARTBEAT.Enum()}
			if err := s.Send(ev); err != nil {
				t.Error(err)
			}
		}
		s.Close()
		if err := s.Send(&schedulerpb.Event{}); err != ErrStreamClosed {
			t.Errorf("Send after Close = %v, want ErrStreamClosed", err)
		}
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if res.Header.Get("Mesos-Stream-Id") != "abc" || res.ContentLength != -1 {
		t.Errorf("headers %v, length %d", res.Header, res.ContentLength)
	}
	rd := recordio.NewReader(res.Body, recordio.DefaultMaxRecord)
	for i := 0; i < 3; i++ {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if string(rec) != `{"type":"HEARTBEAT"}` {
			t.Errorf("record %d = %s", i, rec)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after 3 records: %v, want EOF", err)
	}
}

func TestPostAndGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			Errorf(w, http.StatusConflict, "no such agent")
			return
		}
		var call schedulerpb.Call
		if r.Method == http.MethodPost {
			if _, err := Decode(r, &call); err != nil {
				Error(w, err)
				return
			}
		} else {
			call.Type = schedulerpb.Call_REVIVE.Enum()
		}
		Reply(w, api.Protobuf, http.StatusOK, &call)
	}))
	defer srv.Close()
	ctx := context.Background()
	var got schedulerpb.Call
	if err := Post(ctx, srv.Client(), srv.URL+"/x", &schedulerpb.Call{Type: schedulerpb.Call_KILL.Enum()}, &got); err != nil {
		t.Fatal(err)
	}
	if got.GetType() != schedulerpb.Call_KILL {
		t.Errorf("echo = %v", got.GetType())
	}
	if err := Get(ctx, srv.Client(), srv.URL+"/x", &got); err != nil || got.GetType() != schedulerpb.Call_REVIVE {
		t.Errorf("Get = %v, %v", got.GetType(), err)
	}
	err := Post(ctx, srv.Client(), srv.URL+"/bad", &schedulerpb.Call{}, nil)
	he, ok := err.(*api.HTTPError)
	if !ok || he.Status != http.StatusConflict || !strings.Contains(he.Msg, "no such agent") {
		t.Errorf("error = %#v", err)
	}
}
