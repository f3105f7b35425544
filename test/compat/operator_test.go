package compat

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// queryCalls answer 200 with a Response of the same type.
var queryCalls = []string{"GET_HEALTH", "GET_FLAGS", "GET_VERSION", "GET_METRICS", "GET_LOGGING_LEVEL",
	"GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_EXECUTORS", "GET_OPERATIONS", "GET_TASKS", "GET_ROLES",
	"GET_WEIGHTS", "GET_MASTER", "GET_QUOTA"}

func TestOperatorQueries(t *testing.T) {
	c := startCluster(t)
	subscribeJSONStream(t, c, `,"failover_timeout":60`)
	for _, typ := range queryCalls {
		// JSON in, JSON out.
		r := post(t, c.base+"/api/v1", ctJSON, ctJSON, "", []byte(`{"type":"`+typ+`"}`))
		if r.status != 200 || r.header.Get("Content-Type") != ctJSON {
			t.Errorf("%s (json): %d %q %s", typ, r.status, r.header.Get("Content-Type"), r.body)
			continue
		}
		obj := jsonObj(t, r.body)
		if str(obj["type"]) != typ {
			t.Errorf("%s: response type %v", typ, obj["type"])
		}
		// Protobuf in, protobuf out.
		body, _ := proto.Marshal(&masterpb.Call{Type: masterpb.Call_Type(masterpb.Call_Type_value[typ]).Enum()})
		r = post(t, c.base+"/api/v1", ctProto, ctProto, "", body)
		if r.status != 200 || r.header.Get("Content-Type") != ctProto {
			t.Errorf("%s (protobuf): %d %q", typ, r.status, r.header.Get("Content-Type"))
			continue
		}
		resp := &masterpb.Response{}
		if err := proto.Unmarshal(r.body, resp); err != nil {
			t.Errorf("%s: decode: %v", typ, err)
		} else if resp.GetType().String() != typ {
			t.Errorf("%s: protobuf response type %s", typ, resp.GetType())
		}
	}

	state := jsonObj(t, post(t, c.base+"/api/v1", ctJSON, "", "", []byte(`{"type":"GET_STATE"}`)).body)
	agent := path(state, "get_state", "get_agents", "agents", 0)
	for _, k := range []string{"agent_info", "active", "version"} {
		if path(agent, k) == nil {
			t.Errorf("get_agents.agents[0] lacks %s: %v", k, agent)
		}
	}
	fw := path(state, "get_state", "get_frameworks", "frameworks", 0)
	for _, k := range []string{"framework_info", "active", "connected", "recovered"} {
		if path(fw, k) == nil {
			t.Errorf("get_frameworks.frameworks[0] lacks %s: %v", k, fw)
		}
	}
	health := jsonObj(t, post(t, c.base+"/api/v1", ctJSON, "", "", []byte(`{"type":"GET_HEALTH"}`)).body)
	if path(health, "get_health", "healthy") != true {
		t.Errorf("GET_HEALTH = %v", health)
	}
	version := jsonObj(t, post(t, c.base+"/api/v1", ctJSON, "", "", []byte(`{"type":"GET_VERSION"}`)).body)
	if str(path(version, "get_version", "version_info", "version")) == "" {
		t.Errorf("GET_VERSION = %v", version)
	}
	metrics := jsonObj(t, post(t, c.base+"/api/v1", ctJSON, "", "", []byte(`{"type":"GET_METRICS"}`)).body)
	if m, _ := path(metrics, "get_metrics", "metrics").([]any); len(m) < len(snapshotKeys) {
		t.Errorf("GET_METRICS has %d metrics", len(m))
	}
}

func TestOperatorCommands(t *testing.T) {
	c := startCluster(t)
	api := c.base + "/api/v1"
	aid := c.agent.agentID()
	cases := []struct {
		name string
		body string
		want int
	}{
		{"update weights", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":2.5}]}}`, 200},
		{"bad weight", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":-1}]}}`, 400},
		{"update quota", `{"type":"UPDATE_QUOTA","update_quota":{"force":true,"quota_configs":[{"role":"eng","limits":{"cpus":{"value":2}}}]}}`, 200},
		{"set logging level", `{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":60000000000}}}`, 200},
		{"missing union", `{"type":"TEARDOWN"}`, 400},
		{"teardown unknown", `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}`, 400},
		{"list files", `{"type":"LIST_FILES","list_files":{"path":"/master/log"}}`, 404},
		{"read file", `{"type":"READ_FILE","read_file":{"path":"/master/log","offset":0}}`, 404},
		{"mark unknown agent gone", `{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}`, 404},
		{"deactivate", fmt.Sprintf(`{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":%q}}}`, aid), 200},
		{"reactivate", fmt.Sprintf(`{"type":"REACTIVATE_AGENT","reactivate_agent":{"agent_id":{"value":%q}}}`, aid), 200},
		{"reserve", fmt.Sprintf(`{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":%q},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}}`, aid), 202},
		{"volumes", `{"type":"CREATE_VOLUMES","create_volumes":{"agent_id":{"value":"x"}}}`, 501},
		{"not an operator call", `{"type":"NO_SUCH_CALL"}`, 400},
	}
	for _, tc := range cases {
		r := post(t, api, ctJSON, "", "", []byte(tc.body))
		if r.status != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, r.status, r.body, tc.want)
		}
		if tc.want >= 400 && strings.TrimSpace(string(r.body)) == "" {
			t.Errorf("%s: error without a message", tc.name)
		}
	}
	w := jsonObj(t, post(t, api, ctJSON, "", "", []byte(`{"type":"GET_WEIGHTS"}`)).body)
	if path(w, "get_weights", "weight_infos", 0, "role") != "eng" {
		t.Errorf("GET_WEIGHTS = %v", w)
	}
	q := jsonObj(t, post(t, api, ctJSON, "", "", []byte(`{"type":"GET_QUOTA"}`)).body)
	if path(q, "get_quota", "status", "configs", 0, "role") != "eng" {
		t.Errorf("GET_QUOTA = %v", q)
	}
	l := jsonObj(t, post(t, api, ctJSON, "", "", []byte(`{"type":"GET_LOGGING_LEVEL"}`)).body)
	if fmt.Sprint(path(l, "get_logging_level", "level")) != "1" {
		t.Errorf("GET_LOGGING_LEVEL = %v", l)
	}
	c.agent.waitFor(t, "checkpoint_resources")
	slaves := jsonObj(t, get(t, c.base+"/slaves").body)
	if path(slaves, "slaves", 0, "reserved_resources", "eng", "cpus") == nil {
		t.Errorf("reservation not in /slaves: %v", path(slaves, "slaves", 0))
	}
	// MARK_AGENT_GONE of the live agent.
	r := post(t, api, ctJSON, "", "", []byte(fmt.Sprintf(`{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":%q}}}`, aid)))
	if r.status != 200 {
		t.Fatalf("mark gone: %d %s", r.status, r.body)
	}
	agents := jsonObj(t, post(t, api, ctJSON, "", "", []byte(`{"type":"GET_AGENTS"}`)).body)
	if path(agents, "get_agents", "agents") != nil {
		t.Errorf("gone agent still listed: %v", agents)
	}
}

// TestOperatorSubscribe: SUBSCRIBED (with the state and the heartbeat
// interval) first, then events as frameworks come and go, and heartbeats.
func TestOperatorSubscribe(t *testing.T) {
	c := startCluster(t)
	for _, codec := range []string{ctJSON, ctProto} {
		body := []byte(`{"type":"SUBSCRIBE"}`)
		s := openStream(t, c.addr, "/api/v1", ctJSON, codec, body)
		checkStreamHeaders(t, s, codec)
		decode := func(b []byte) *masterpb.Event {
			ev := &masterpb.Event{}
			if codec == ctProto {
				if err := proto.Unmarshal(b, ev); err != nil {
					t.Fatal(err)
				}
				return ev
			}
			obj := jsonObj(t, b)
			ev.Type = masterpb.Event_Type(masterpb.Event_Type_value[str(obj["type"])]).Enum()
			if ev.GetType() == masterpb.Event_SUBSCRIBED {
				if path(obj, "subscribed", "get_state", "get_agents", "agents", 0, "agent_info") == nil ||
					path(obj, "subscribed", "heartbeat_interval_seconds") == nil {
					t.Errorf("SUBSCRIBED = %v", obj)
				}
			}
			return ev
		}
		if ev := decode(s.mustNext()); ev.GetType() != masterpb.Event_SUBSCRIBED {
			t.Fatalf("first event %v", ev)
		}
		subscribeJSONStream(t, c, "")
		want := map[masterpb.Event_Type]bool{masterpb.Event_FRAMEWORK_ADDED: false, masterpb.Event_HEARTBEAT: false}
		s.await(15 * time.Second)
		for !want[masterpb.Event_FRAMEWORK_ADDED] || !want[masterpb.Event_HEARTBEAT] {
			want[decode(s.mustNext()).GetType()] = true
		}
	}
}

// TestOperatorProtobufRequired: a protobuf GET_AGENTS decodes with every
// proto2 required field set (clients check them).
func TestOperatorProtobufRequired(t *testing.T) {
	c := startCluster(t)
	body, _ := proto.Marshal(&masterpb.Call{Type: masterpb.Call_GET_STATE.Enum()})
	r := post(t, c.base+"/api/v1", ctProto, ctProto, "", body)
	resp := &masterpb.Response{}
	if err := (proto.UnmarshalOptions{}).Unmarshal(r.body, resp); err != nil {
		t.Fatalf("decode with required checks: %v", err)
	}
	a := resp.GetGetState().GetGetAgents().GetAgents()
	if len(a) != 1 || a[0].GetAgentInfo().GetResources() == nil {
		t.Fatalf("agents = %v", a)
	}
	for _, res := range a[0].GetTotalResources() {
		if res.Name == nil || res.Type == nil {
			t.Errorf("resource without name/type: %v", res)
		}
	}
	_ = mesospb.Value_SCALAR
}
