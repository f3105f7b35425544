package compat

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

const subscribeJSON = `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"compat","name":"compat-json"%s}}}`

// checkStreamHeaders: 200, exact Content-Type, chunked, no Content-Length.
func checkStreamHeaders(t *testing.T, s *rawStream, ctype string) {
	t.Helper()
	if s.status != http.StatusOK {
		t.Fatalf("status %d, body %q", s.status, s.body)
	}
	if got := s.header.Get("Content-Type"); got != ctype {
		t.Errorf("Content-Type = %q, want exactly %q", got, ctype)
	}
	if te := s.header.Get("Transfer-Encoding"); te != "chunked" {
		t.Errorf("Transfer-Encoding = %q, want chunked", te)
	}
	if cl := s.header.Get("Content-Length"); cl != "" {
		t.Errorf("stream has Content-Length %q", cl)
	}
}

// subscribeJSONStream subscribes a framework with a JSON body and JSON
// events; extra is appended inside framework_info.
func subscribeJSONStream(t *testing.T, c *cluster, extra string) (*rawStream, string, string) {
	t.Helper()
	s := openStream(t, c.addr, "/api/v1/scheduler", ctJSON, ctJSON, []byte(fmt.Sprintf(subscribeJSON, extra)))
	checkStreamHeaders(t, s, ctJSON)
	sid := s.header.Get("Mesos-Stream-Id")
	if !uuidRE.MatchString(sid) {
		t.Errorf("Mesos-Stream-Id %q is not a UUID", sid)
	}
	ev := jsonObj(t, s.mustNext())
	if str(ev["type"]) != "SUBSCRIBED" {
		t.Fatalf("first event %v", ev)
	}
	fid := str(path(ev, "subscribed", "framework_id", "value"))
	if fid == "" {
		t.Fatalf("SUBSCRIBED without framework_id: %v", ev)
	}
	if hb := path(ev, "subscribed", "heartbeat_interval_seconds"); hb == nil {
		t.Errorf("SUBSCRIBED without heartbeat_interval_seconds: %v", ev)
	}
	for _, k := range []string{"hostname", "ip", "port"} {
		if path(ev, "subscribed", "master_info", "address", k) == nil {
			t.Errorf("SUBSCRIBED master_info.address lacks %s: %v", k, ev)
		}
	}
	if str(path(ev, "subscribed", "master_info", "id")) == "" {
		t.Errorf("master_info.id missing: %v", ev)
	}
	return s, sid, fid
}

// nextJSON skips events until one of type typ.
func nextJSON(t *testing.T, s *rawStream, typ string) map[string]any {
	t.Helper()
	s.await(15 * time.Second)
	for {
		ev := jsonObj(t, s.mustNext())
		if str(ev["type"]) == typ {
			return ev
		}
	}
}

func TestSchedulerSubscribeJSON(t *testing.T) {
	c := startMaster(t)
	s, _, _ := subscribeJSONStream(t, c, `,"failover_timeout":0`)
	// Heartbeats come, each in its own chunk.
	nextJSON(t, s, "HEARTBEAT")
	nextJSON(t, s, "HEARTBEAT")
}

func TestSchedulerSubscribeProtobuf(t *testing.T) {
	c := startMaster(t)
	call := &schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum(), Subscribe: &schedulerpb.Call_Subscribe{
		FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("compat"), Name: proto.String("compat-pb")}}}
	body, _ := proto.Marshal(call)
	s := openStream(t, c.addr, "/api/v1/scheduler", ctProto, ctProto, body)
	checkStreamHeaders(t, s, ctProto)
	ev := &schedulerpb.Event{}
	if err := proto.Unmarshal(s.mustNext(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetType() != schedulerpb.Event_SUBSCRIBED || ev.GetSubscribed().GetFrameworkId().GetValue() == "" ||
		ev.GetSubscribed().GetMasterInfo().GetAddress().GetPort() == 0 || ev.GetSubscribed().GetHeartbeatIntervalSeconds() <= 0 {
		t.Fatalf("SUBSCRIBED = %v", ev)
	}
	if err := proto.Unmarshal(s.mustNext(), ev); err != nil || ev.GetType() != schedulerpb.Event_HEARTBEAT {
		t.Fatalf("second event %v %v", ev, err)
	}
}

func TestSchedulerStatusCodes(t *testing.T) {
	c := startMaster(t)
	_, sid, fid := subscribeJSONStream(t, c, `,"failover_timeout":3600`)
	url := c.base + "/api/v1/scheduler"
	revive := []byte(fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q}}`, fid))
	cases := []struct {
		name, ctype, accept, sid string
		body                     []byte
		get                      bool
		want                     int
	}{
		{name: "GET", get: true, want: 405},
		{name: "no Content-Type", body: revive, sid: sid, want: 400},
		{name: "text/plain", ctype: "text/plain", body: revive, sid: sid, want: 415},
		{name: "Accept text/html", ctype: ctJSON, accept: "text/html", body: revive, sid: sid, want: 406},
		{name: "malformed JSON", ctype: ctJSON, body: []byte(`{"type":`), sid: sid, want: 400},
		{name: "malformed protobuf", ctype: ctProto, body: []byte{0xff, 0xff, 0xff}, sid: sid, want: 400},
		{name: "no stream id", ctype: ctJSON, body: revive, want: 400},
		{name: "wrong stream id", ctype: ctJSON, body: revive, sid: "00000000-0000-0000-0000-000000000000", want: 400},
		{name: "subscribe with stream id", ctype: ctJSON, body: []byte(fmt.Sprintf(subscribeJSON, "")), sid: sid, want: 400},
		{name: "unknown framework", ctype: ctJSON, body: []byte(`{"type":"REVIVE","framework_id":{"value":"nope"}}`), sid: sid, want: 403},
		{name: "revive", ctype: ctJSON, body: revive, sid: sid, want: 202},
		{name: "decline nothing", ctype: ctJSON, body: []byte(fmt.Sprintf(`{"type":"DECLINE","framework_id":{"value":%q},"decline":{"offer_ids":[]}}`, fid)), sid: sid, want: 202},
		{name: "kill without body", ctype: ctJSON, body: []byte(fmt.Sprintf(`{"type":"KILL","framework_id":{"value":%q}}`, fid)), sid: sid, want: 400},
		{name: "update framework", ctype: ctJSON, sid: sid, want: 200,
			body: []byte(fmt.Sprintf(`{"type":"UPDATE_FRAMEWORK","framework_id":{"value":%q},"update_framework":{"framework_info":{"user":"compat","name":"renamed","id":{"value":%q},"failover_timeout":3600}}}`, fid, fid))},
	}
	for _, tc := range cases {
		var r reply
		if tc.get {
			r = get(t, url)
		} else {
			r = post(t, url, tc.ctype, tc.accept, tc.sid, tc.body)
		}
		if r.status != tc.want {
			t.Errorf("%s: status %d (%q), want %d", tc.name, r.status, r.body, tc.want)
			continue
		}
		if tc.want >= 400 && len(strings.TrimSpace(string(r.body))) == 0 {
			t.Errorf("%s: %d without a message", tc.name, r.status)
		}
		if tc.want == 202 && len(r.body) != 0 {
			t.Errorf("%s: 202 with a body %q", tc.name, r.body)
		}
	}
}

// TestSupersededSubscription: a second SUBSCRIBE for the same framework
// gets the same id; the first stream gets ERROR and ends; its stream id is
// no longer accepted.
func TestSupersededSubscription(t *testing.T) {
	c := startMaster(t)
	s1, sid1, fid := subscribeJSONStream(t, c, `,"failover_timeout":3600`)
	body := fmt.Sprintf(`{"type":"SUBSCRIBE","framework_id":{"value":%q},"subscribe":{"framework_info":{"user":"compat","name":"again","id":{"value":%q},"failover_timeout":3600}}}`, fid, fid)
	s2 := openStream(t, c.addr, "/api/v1/scheduler", ctJSON, ctJSON, []byte(body))
	checkStreamHeaders(t, s2, ctJSON)
	ev := jsonObj(t, s2.mustNext())
	if str(path(ev, "subscribed", "framework_id", "value")) != fid {
		t.Fatalf("resubscribe got %v, want id %s", ev, fid)
	}
	errEv := nextJSON(t, s1, "ERROR")
	if str(path(errEv, "error", "message")) == "" {
		t.Errorf("ERROR without message: %v", errEv)
	}
	s1.await(15 * time.Second)
	for {
		if !s1.waitTo.IsZero() && time.Now().After(s1.waitTo) {
			t.Fatal("old stream not ended")
		}
		if _, err := s1.next(); err != nil {
			if err != io.EOF {
				t.Errorf("old stream ended with %v, want a clean end", err)
			}
			break
		}
	}
	r := post(t, c.base+"/api/v1/scheduler", ctJSON, "", sid1, []byte(fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q}}`, fid)))
	if r.status != 400 {
		t.Errorf("old stream id: %d, want 400", r.status)
	}
}

// TestDisconnectedFramework403: after the stream breaks (failover timeout
// not yet passed) calls are 403; the framework keeps its id and comes back.
func TestDisconnectedFramework403(t *testing.T) {
	c := startMaster(t)
	s, sid, fid := subscribeJSONStream(t, c, `,"failover_timeout":3600`)
	s.conn.Close()
	revive := []byte(fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q}}`, fid))
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := post(t, c.base+"/api/v1/scheduler", ctJSON, "", sid, revive)
		if r.status == 403 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %d after the stream broke, want 403", r.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	frameworks := jsonObj(t, get(t, c.base+"/master/frameworks").body)
	if path(frameworks, "frameworks", 0, "connected") != false || str(path(frameworks, "frameworks", 0, "id")) != fid {
		t.Errorf("/master/frameworks = %v", frameworks)
	}
}

// TestNoFailoverTimeoutTearsDown: failover_timeout 0 (the default) means the
// framework is torn down as soon as its stream breaks.
func TestNoFailoverTimeoutTearsDown(t *testing.T) {
	c := startMaster(t)
	s, _, fid := subscribeJSONStream(t, c, "")
	s.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st := jsonObj(t, get(t, c.base+"/state").body)
		if str(path(st, "completed_frameworks", 0, "id")) == fid {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("framework not torn down after its stream broke")
}
