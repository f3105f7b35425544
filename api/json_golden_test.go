package api

import (
	"testing"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// Exact encodings: what a Mesos scheduler library sees on the wire.
func TestJSONGolden(t *testing.T) {
	s := proto.String
	tests := []struct {
		name string
		msg  proto.Message
		want string
	}{{
		name: "subscribed",
		msg: &schedulerpb.Event{
			Type: schedulerpb.Event_SUBSCRIBED.Enum(),
			Subscribed: &schedulerpb.Event_Subscribed{
				FrameworkId:              &mesospb.FrameworkID{Value: s("3f6c-0000")},
				HeartbeatIntervalSeconds: proto.Float64(15),
				MasterInfo: &mesospb.MasterInfo{
					Id:       s("3f6c"),
					Ip:       proto.Uint32(16777343),
					Port:     proto.Uint32(5050),
					Hostname: s("m1"),
					Version:  s("1.11.0"),
					Address:  &mesospb.Address{Hostname: s("m1"), Ip: s("127.0.0.1"), Port: proto.Int32(5050)},
				},
			},
		},
		want: `{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"3f6c-0000"},` +
			`"heartbeat_interval_seconds":15.0,"master_info":{"id":"3f6c","ip":16777343,"port":5050,` +
			`"hostname":"m1","version":"1.11.0","address":{"hostname":"m1","ip":"127.0.0.1","port":5050}}}}`,
	}, {
		name: "offers with every resource type",
		msg: &schedulerpb.Event{
			Type: schedulerpb.Event_OFFERS.Enum(),
			Offers: &schedulerpb.Event_Offers{Offers: []*mesospb.Offer{{
				Id:          &mesospb.OfferID{Value: s("3f6c-O1")},
				FrameworkId: &mesospb.FrameworkID{Value: s("3f6c-0000")},
				AgentId:     &mesospb.AgentID{Value: s("3f6c-S0")},
				Hostname:    s("a1"),
				Url: &mesospb.URL{
					Scheme:  s("http"),
					Address: &mesospb.Address{Hostname: s("a1"), Ip: s("10.0.0.2"), Port: proto.Int32(5051)},
					Path:    s("/slave(1)"),
				},
				Resources: []*mesospb.Resource{
					{Name: s("cpus"), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(3.5)}},
					{Name: s("mem"), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(15360)}},
					{Name: s("ports"), Type: mesospb.Value_RANGES.Enum(), Ranges: &mesospb.Value_Ranges{
						Range: []*mesospb.Value_Range{{Begin: proto.Uint64(31000), End: proto.Uint64(32000)}},
					}},
					{Name: s("zones"), Type: mesospb.Value_SET.Enum(), Set: &mesospb.Value_Set{Item: []string{"a", "b"}},
						Role: s("*"), AllocationInfo: &mesospb.Resource_AllocationInfo{Role: s("web")}},
				},
				Attributes: []*mesospb.Attribute{
					{Name: s("rack"), Type: mesospb.Value_TEXT.Enum(), Text: &mesospb.Value_Text{Value: s("r1")}},
				},
				ExecutorIds: []*mesospb.ExecutorID{{Value: s("e1")}},
			}}},
		},
		want: `{"type":"OFFERS","offers":{"offers":[{"id":{"value":"3f6c-O1"},"framework_id":{"value":"3f6c-0000"},` +
			`"agent_id":{"value":"3f6c-S0"},"hostname":"a1",` +
			`"url":{"scheme":"http","address":{"hostname":"a1","ip":"10.0.0.2","port":5051},"path":"/slave(1)"},` +
			`"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":3.5}},` +
			`{"name":"mem","type":"SCALAR","scalar":{"value":15360.0}},` +
			`{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},` +
			`{"name":"zones","type":"SET","set":{"item":["a","b"]},"role":"*","allocation_info":{"role":"web"}}],` +
			`"attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}],"executor_ids":[{"value":"e1"}]}]}}`,
	}, {
		// Unset optional fields with an explicit default print (Mesos does);
		// the deprecated role does not.
		name: "defaults",
		msg:  &mesospb.FrameworkInfo{User: s("u"), Name: s("n")},
		want: `{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false}`,
	}, {
		name: "task status",
		msg: &mesospb.TaskStatus{
			TaskId:    &mesospb.TaskID{Value: s("t1")},
			State:     mesospb.TaskState_TASK_FAILED.Enum(),
			Message:   s("exit status 2"),
			Source:    mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
			Reason:    mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY.Enum(),
			Timestamp: proto.Float64(1700000000.25),
			Uuid:      []byte{0xfb, 0xff, 0x00, 0x01},
			Healthy:   proto.Bool(false),
			ContainerStatus: &mesospb.ContainerStatus{
				NetworkInfos: []*mesospb.NetworkInfo{{IpAddresses: []*mesospb.NetworkInfo_IPAddress{{IpAddress: s("10.0.0.9")}}}},
				ExecutorPid:  proto.Uint32(42),
			},
			UnreachableTime: &mesospb.TimeInfo{Nanoseconds: proto.Int64(-9223372036854775808)},
		},
		want: `{"task_id":{"value":"t1"},"state":"TASK_FAILED","message":"exit status 2","source":"SOURCE_EXECUTOR",` +
			`"reason":"REASON_CONTAINER_LIMITATION_MEMORY","timestamp":1700000000.25,"uuid":"+/8AAQ==","healthy":false,` +
			`"container_status":{"network_infos":[{"ip_addresses":[{"protocol":"IPv4","ip_address":"10.0.0.9"}]}],"executor_pid":42},` +
			`"unreachable_time":{"nanoseconds":-9223372036854775808}}`,
	}, {
		name: "map as object with sorted keys",
		msg: &mesospb.TaskInfo{
			Name:    s("t"),
			TaskId:  &mesospb.TaskID{Value: s("t")},
			AgentId: &mesospb.AgentID{Value: s("a")},
			Limits: map[string]*mesospb.Value_Scalar{
				"mem":  {Value: proto.Float64(256)},
				"cpus": {Value: proto.Float64(0.5)},
			},
		},
		want: `{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},` +
			`"limits":{"cpus":{"value":0.5},"mem":{"value":256.0}}}`,
	}, {
		name: "strings are ASCII-safe",
		msg:  &mesospb.Label{Key: s("k\"\\\n\t\x01\x7f/<"), Value: s("h\u00e9\U0001F600\u2028\xff")},
		want: `{"key":"k\"\\\n\t\u0001\u007f/<","value":"h\u00e9\ud83d\ude00\u2028\ufffd"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JSON.Marshal(tt.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONFloatFormat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, `0.0`},
		{1, `1.0`},
		{-2, `-2.0`},
		{0.1, `0.1`},
		{0.30000000000000004, `0.30000000000000004`},
		{3.6e6, `3600000.0`},
		{1e20, `100000000000000000000.0`},
		{1e21, `1e+21`},
		{1.5e-7, `1.5e-7`},
		{1e-6, `0.000001`},
	}
	for _, tt := range tests {
		got, err := JSON.Marshal(&mesospb.Value_Scalar{Value: proto.Float64(tt.in)})
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tt.in, err)
		}
		if want := `{"value":` + tt.want + `}`; string(got) != want {
			t.Errorf("Marshal(%v) = %s, want %s", tt.in, got, want)
		}
	}
}

// The operator API types use the same mapping.
func TestJSONOperatorResponse(t *testing.T) {
	in := `{"type":"GET_AGENTS","get_agents":{"agents":[{"agent_info":{"hostname":"a1","port":5051,` +
		`"id":{"value":"m-S0"}},"active":true,"version":"1.11.0","registered_time":{"nanoseconds":1700000000000000000}}]}}`
	var r masterpb.Response
	if err := JSON.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	out, err := JSON.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("re-encoded:\n got %s\nwant %s", out, in)
	}
	if _, err := JSON.Marshal(&masterpb.Response{Type: masterpb.Response_GET_HEALTH.Enum(),
		GetHealth: &masterpb.Response_GetHealth{}}); err == nil || err.Error() != "get_health.healthy: required field missing" {
		t.Errorf("missing healthy: %v", err)
	}
}
