package api

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestJSONDecode(t *testing.T) {
	s := proto.String
	fw := func(extra string) string {
		return `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"` + extra + `}}}`
	}
	subscribe := func(fi *mesospb.FrameworkInfo) *schedulerpb.Call {
		fi.User, fi.Name = s("u"), s("n")
		return &schedulerpb.Call{
			Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
			Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: fi},
		}
	}
	tests := []struct {
		name string
		in   string
		want *schedulerpb.Call
	}{
		{"minimal", fw(``), subscribe(&mesospb.FrameworkInfo{})},
		{"float with exponent", fw(`,"failover_timeout":3.6e+06`),
			subscribe(&mesospb.FrameworkInfo{FailoverTimeout: proto.Float64(3.6e6)})},
		{"float as string", fw(`,"failover_timeout":"2.5"`),
			subscribe(&mesospb.FrameworkInfo{FailoverTimeout: proto.Float64(2.5)})},
		{"null is absent", fw(`,"failover_timeout":null,"id":null,"roles":null`),
			subscribe(&mesospb.FrameworkInfo{})},
		{"null list elements are skipped", fw(`,"roles":["a",null,"b"]`),
			subscribe(&mesospb.FrameworkInfo{Roles: []string{"a", "b"}})},
		{"single value for a list", fw(`,"roles":"a"`),
			subscribe(&mesospb.FrameworkInfo{Roles: []string{"a"}})},
		{"unknown fields skipped at any depth", fw(`,"x":{"y":[1,{"z":null},"\u00e9"]},"force":true`),
			subscribe(&mesospb.FrameworkInfo{})},
		{"lowerCamel names", `{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"u","name":"n","failoverTimeout":1}}}`,
			subscribe(&mesospb.FrameworkInfo{FailoverTimeout: proto.Float64(1)})},
		{"last duplicate wins", fw(`,"roles":["a"],"roles":["b"],"checkpoint":true,"checkpoint":false`),
			subscribe(&mesospb.FrameworkInfo{Roles: []string{"b"}, Checkpoint: proto.Bool(false)})},
		{"enum by number", `{"type":1,"subscribe":{"framework_info":{"user":"u","name":"n"}}}`,
			subscribe(&mesospb.FrameworkInfo{})},
		{"unknown enum in optional field is dropped", `{"type":"FUTURE_CALL"}`, &schedulerpb.Call{}},
		{"unknown enum number is dropped", `{"type":999}`, &schedulerpb.Call{}},
		{"unknown enum in repeated field is dropped",
			fw(`,"capabilities":[{"type":"MULTI_ROLE"},{"type":"TELEPATHY"}]`),
			subscribe(&mesospb.FrameworkInfo{Capabilities: []*mesospb.FrameworkInfo_Capability{
				{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()}, {}}})},
		{"escapes", fw(`,"hostname":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"`),
			subscribe(&mesospb.FrameworkInfo{Hostname: s("a\"\\/\b\f\n\r\té\U0001F600\uFFFDx")})},
		{"bytes std, unpadded and url-safe",
			`{"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"-_8AAQ"}}`,
			&schedulerpb.Call{Type: schedulerpb.Call_ACKNOWLEDGE.Enum(), Acknowledge: &schedulerpb.Call_Acknowledge{
				AgentId: &mesospb.AgentID{Value: s("a")}, TaskId: &mesospb.TaskID{Value: s("t")},
				Uuid: []byte{0xfb, 0xff, 0x00, 0x01}}}},
		{"whitespace everywhere", " \t\n{ \"type\" :\r\n\"TEARDOWN\" } \n", &schedulerpb.Call{Type: schedulerpb.Call_TEARDOWN.Enum()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got schedulerpb.Call
			if err := JSON.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(tt.want, &got) {
				t.Errorf("Unmarshal:\n got %v\nwant %v", &got, tt.want)
			}
		})
	}
}

func TestJSONDecodeIntegers(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{`{"nanoseconds":-5}`, -5, ""},
		{`{"nanoseconds":"9223372036854775807"}`, 9223372036854775807, ""},
		{`{"nanoseconds":1e3}`, 1000, ""},
		{`{"nanoseconds":7.0}`, 7, ""},
		{`{"nanoseconds":1.5}`, 0, "nanoseconds: 1.5 is not a valid int64"},
		{`{"nanoseconds":9223372036854775808}`, 0, "nanoseconds: 9223372036854775808 is not a valid int64"},
		{`{"nanoseconds":1e19}`, 0, "not a valid int64"},
		{`{"nanoseconds":"12x"}`, 0, `nanoseconds: expected integer, got string "12x"`},
		{`{"nanoseconds":true}`, 0, "nanoseconds: expected integer, got boolean"},
		{`{"nanoseconds":[]}`, 0, "nanoseconds: expected integer, got array"},
	}
	for _, tt := range tests {
		var got mesospb.TimeInfo
		err := JSON.Unmarshal([]byte(tt.in), &got)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
		case tt.wantErr == "" && got.GetNanoseconds() != tt.want:
			t.Errorf("Unmarshal(%s) = %d, want %d", tt.in, got.GetNanoseconds(), tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Unmarshal(%s) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
	var addr mesospb.Address
	if err := JSON.Unmarshal([]byte(`{"port":4294967296}`), &addr); err == nil {
		t.Errorf("int32 overflow accepted: %v", &addr)
	}
	var uri mesospb.Value_Range
	if err := JSON.Unmarshal([]byte(`{"begin":-1,"end":2}`), &uri); err == nil {
		t.Errorf("negative uint64 accepted: %v", &uri)
	}
}

// Errors must say where the problem is.
func TestJSONDecodeErrors(t *testing.T) {
	fw := `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n",%s}}}`
	tests := []struct {
		name, in, want string
	}{
		{"wrong type names the path", strings.Replace(fw, "%s", `"failover_timeout":"soon"`, 1),
			`subscribe.framework_info.failover_timeout: expected number, got string "soon"`},
		{"wrong type boolean", strings.Replace(fw, "%s", `"failover_timeout":true`, 1),
			`subscribe.framework_info.failover_timeout: expected number, got boolean`},
		{"object expected", strings.Replace(fw, "%s", `"id":"x"`, 1),
			`subscribe.framework_info.id: expected object, got string`},
		{"list index in path", strings.Replace(fw, "%s", `"capabilities":[{},{"type":{}}]`, 1),
			`subscribe.framework_info.capabilities[1].type: expected enum name or number, got object`},
		{"missing required field", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u"}}}`,
			`subscribe.framework_info.name: required field missing`},
		{"missing required field in list", `{"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"},{}]}}`,
			`accept.offer_ids[1].value: required field missing`},
		{"unknown enum in required field", `{"task_id":{"value":"t"},"state":"TASK_BORED"}`,
			`state: unknown mesos.v1.TaskState value "TASK_BORED"`},
		{"bad base64", `{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"!!"}}`,
			`message.data: invalid base64`},
		{"map key in path", `{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},"limits":{"cpus":{"value":"x"}}}`,
			`limits["cpus"].value: expected number, got string "x"`},
		{"empty body", ``, `empty body`},
		{"not an object", `[1]`, `expected a JSON object, got array`},
		{"trailing data", `{"type":"TEARDOWN"} {}`, `data after the top-level object`},
		{"trailing comma", `{"type":"TEARDOWN",}`, `expected string`},
		{"unterminated", `{"type":"TEARD`, `unterminated string`},
		{"bad literal", `{"x":nul}`, `invalid literal`},
		{"bad number", `{"x":01}`, `expected ','`},
		{"raw control character", "{\"x\":\"a\x01\"}", `control character`},
		{"lone backslash u", `{"x":"\u12"}`, `malformed \u escape`},
		{"too deep unknown", `{"x":` + strings.Repeat("[", 150) + strings.Repeat("]", 150) + `}`, `nested more than 100`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m proto.Message = &schedulerpb.Call{}
			if strings.Contains(tt.in, "TASK_BORED") {
				m = &mesospb.TaskStatus{}
			}
			if strings.Contains(tt.in, "limits") {
				m = &mesospb.TaskInfo{}
			}
			err := JSON.Unmarshal([]byte(tt.in), m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A chain of parents deeper than the limit must fail cleanly, not blow
// the stack, and so must a huge run of brackets.
func TestJSONDepthLimit(t *testing.T) {
	deep := func(n int) string {
		return strings.Repeat(`{"value":"c","parent":`, n) + `{"value":"c"}` + strings.Repeat(`}`, n)
	}
	var c mesospb.ContainerID
	if err := JSON.Unmarshal([]byte(deep(90)), &c); err != nil {
		t.Fatalf("90 levels: %v", err)
	}
	if _, err := JSON.Marshal(&c); err != nil {
		t.Fatalf("Marshal 90 levels: %v", err)
	}
	if err := JSON.Unmarshal([]byte(deep(150)), &c); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("150 levels: err = %v", err)
	}
	bomb := `{"x":` + strings.Repeat("[", 1_000_000)
	if err := JSON.Unmarshal([]byte(bomb), &c); err == nil {
		t.Fatal("bracket bomb accepted")
	}
	// A Go value nested beyond the limit cannot be encoded either.
	root := &mesospb.ContainerID{Value: proto.String("c")}
	for range 150 {
		root = &mesospb.ContainerID{Value: proto.String("c"), Parent: root}
	}
	if _, err := JSON.Marshal(root); err == nil {
		t.Fatal("Marshal of 150 levels succeeded")
	}
}

func TestJSONMarshalErrors(t *testing.T) {
	_, err := JSON.Marshal(&schedulerpb.Call{
		Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("u")}},
	})
	if want := "subscribe.framework_info.name: required field missing"; err == nil || err.Error() != want {
		t.Errorf("missing required: err = %v, want %q", err, want)
	}
	_, err = JSON.Marshal(&schedulerpb.Event{Offers: &schedulerpb.Event_Offers{Offers: []*mesospb.Offer{{
		Id: &mesospb.OfferID{Value: proto.String("o")}, FrameworkId: &mesospb.FrameworkID{Value: proto.String("f")},
		AgentId: &mesospb.AgentID{Value: proto.String("a")}, Hostname: proto.String("h"),
		Resources: []*mesospb.Resource{{Name: proto.String("cpus"), Type: mesospb.Value_SCALAR.Enum(),
			Scalar: &mesospb.Value_Scalar{Value: proto.Float64(posInf())}}},
	}}}})
	if want := "offers.offers[0].resources[0].scalar.value: cannot encode NaN or infinity"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("infinity: err = %v, want prefix %q", err, want)
	}
}

func posInf() float64 {
	zero := 0.0
	return 1 / zero
}

// Sample calls from Mesos's scheduler HTTP API documentation decode to
// what they say.
func TestJSONMesosDocSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/mesosdoc/*.json")
	if err != nil || len(files) < 11 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c schedulerpb.Call
			if err := JSON.Unmarshal(b, &c); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			want := strings.ToUpper(strings.TrimSuffix(filepath.Base(f), ".json"))
			if c.GetType().String() != want {
				t.Errorf("type = %v, want %s", c.GetType(), want)
			}
			if want != "SUBSCRIBE" && c.GetFrameworkId().GetValue() != "12220-3440-12532-2345" {
				t.Errorf("framework_id = %v", c.GetFrameworkId())
			}
			// Whatever decodes must encode and decode to the same message.
			out, err := JSON.Marshal(&c)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var again schedulerpb.Call
			if err := JSON.Unmarshal(out, &again); err != nil {
				t.Fatalf("Unmarshal of own output: %v", err)
			}
			if out2, _ := JSON.Marshal(&again); !bytes.Equal(out, out2) {
				t.Errorf("not stable:\n%s\n%s", out, out2)
			}
		})
	}
	var c schedulerpb.Call
	read := func(name string) {
		t.Helper()
		b, err := os.ReadFile("testdata/mesosdoc/" + name)
		if err != nil {
			t.Fatal(err)
		}
		c.Reset()
		if err := JSON.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
	}
	read("subscribe.json")
	if fi := c.GetSubscribe().GetFrameworkInfo(); fi.GetUser() != "foo" || fi.GetName() != "Example HTTP Framework" {
		t.Errorf("subscribe: %v", fi)
	}
	read("accept.json")
	task := c.GetAccept().GetOperations()[0].GetLaunch().GetTaskInfos()[0]
	if task.GetCommand().GetValue() != "sleep 1000" || task.GetResources()[1].GetScalar().GetValue() != 128 {
		t.Errorf("accept: %v", task)
	}
	read("decline.json")
	if got := c.GetDecline().GetFilters().GetRefuseSeconds(); got != 3600 || len(c.GetDecline().GetOfferIds()) != 2 {
		t.Errorf("decline: %v", c.GetDecline())
	}
	read("acknowledge.json") // 22 base64 characters without padding
	if len(c.GetAcknowledge().GetUuid()) != 16 {
		t.Errorf("acknowledge uuid = %x", c.GetAcknowledge().GetUuid())
	}
	read("reconcile.json")
	if c.GetReconcile().GetTasks()[0].GetAgentId().GetValue() != "123535" {
		t.Errorf("reconcile: %v", c.GetReconcile())
	}
	read("message.json")
	if len(c.GetMessage().GetData()) != 15 {
		t.Errorf("message data = %x", c.GetMessage().GetData())
	}
}

// Round trips through JSON keep every kind of field: JSON -> proto is
// lossless, and proto -> JSON -> proto adds only the printed defaults.
func TestJSONRoundTrip(t *testing.T) {
	msgs := []proto.Message{
		sampleOffersEvent(3),
		&schedulerpb.Event{Type: schedulerpb.Event_UPDATE.Enum(), Update: &schedulerpb.Event_Update{Status: sampleStatus()}},
		&schedulerpb.Call{
			FrameworkId: &mesospb.FrameworkID{Value: proto.String("f")},
			Type:        schedulerpb.Call_ACCEPT.Enum(),
			Accept: &schedulerpb.Call_Accept{
				OfferIds: []*mesospb.OfferID{{Value: proto.String("o1")}},
				Operations: []*mesospb.Offer_Operation{{
					Type: mesospb.Offer_Operation_LAUNCH_GROUP.Enum(),
					LaunchGroup: &mesospb.Offer_Operation_LaunchGroup{
						Executor: &mesospb.ExecutorInfo{
							Type:       mesospb.ExecutorInfo_DEFAULT.Enum(),
							ExecutorId: &mesospb.ExecutorID{Value: proto.String("e")},
							Data:       []byte("\x00\x01binary"),
						},
						TaskGroup: &mesospb.TaskGroupInfo{Tasks: []*mesospb.TaskInfo{{
							Name: proto.String("t"), TaskId: &mesospb.TaskID{Value: proto.String("t")},
							AgentId: &mesospb.AgentID{Value: proto.String("a")},
							Command: &mesospb.CommandInfo{Value: proto.String("echo"), Arguments: []string{"a b", "ü"},
								Uris: []*mesospb.CommandInfo_URI{{Value: proto.String("http://x/y.tgz")}}},
							KillPolicy: &mesospb.KillPolicy{GracePeriod: &mesospb.DurationInfo{Nanoseconds: proto.Int64(3e9)}},
							Limits:     map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(2)}},
						}}},
					},
				}},
				Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(0.001)},
			},
		},
		&executorpb.Call{
			ExecutorId:  &mesospb.ExecutorID{Value: proto.String("e")},
			FrameworkId: &mesospb.FrameworkID{Value: proto.String("f")},
			Type:        executorpb.Call_UPDATE.Enum(),
			Update:      &executorpb.Call_Update{Status: sampleStatus()},
		},
	}
	for _, m := range msgs {
		b, err := JSON.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal %T: %v", m, err)
		}
		m2 := m.ProtoReflect().New().Interface()
		if err := JSON.Unmarshal(b, m2); err != nil {
			t.Fatalf("Unmarshal %T: %v\n%s", m, err, b)
		}
		// The only difference allowed is defaults made explicit.
		withDefaults := proto.Clone(m)
		setDefaults(withDefaults.ProtoReflect())
		if !proto.Equal(withDefaults, m2) {
			t.Errorf("%T changed:\n%v\n%v", m, m, m2)
		}
		b2, err := JSON.Marshal(m2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Errorf("%T: re-encoding differs (%v):\n%s\n%s", m, err, b, b2)
		}
		// Protobuf binary carries the same content.
		pb, err := Protobuf.Marshal(m2)
		if err != nil {
			t.Fatal(err)
		}
		m3 := m.ProtoReflect().New().Interface()
		if err := Protobuf.Unmarshal(pb, m3); err != nil || !proto.Equal(m2, m3) {
			t.Errorf("%T: protobuf round trip: %v", m, err)
		}
	}
}

// setDefaults sets what the encoder prints for unset fields.
func setDefaults(m protoreflect.Message) {
	for _, f := range planFor(m.Descriptor()) {
		fd := f.fd
		switch {
		case fd.IsMap():
			if isMessage(fd.MapValue()) {
				m.Get(fd).Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
					setDefaults(v.Message())
					return true
				})
			}
		case fd.IsList():
			if isMessage(fd) {
				for i, l := 0, m.Get(fd).List(); i < l.Len(); i++ {
					setDefaults(l.Get(i).Message())
				}
			}
		case m.Has(fd) && isMessage(fd):
			setDefaults(m.Get(fd).Message())
		case !m.Has(fd) && f.emitDefault:
			m.Set(fd, fd.Default())
		}
	}
}

func sampleStatus() *mesospb.TaskStatus {
	return &mesospb.TaskStatus{
		TaskId:     &mesospb.TaskID{Value: proto.String("t1")},
		State:      mesospb.TaskState_TASK_RUNNING.Enum(),
		Source:     mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
		Reason:     mesospb.TaskStatus_REASON_TASK_HEALTH_CHECK_STATUS_UPDATED.Enum(),
		Data:       []byte{0, 1, 2, 255},
		AgentId:    &mesospb.AgentID{Value: proto.String("a")},
		ExecutorId: &mesospb.ExecutorID{Value: proto.String("e")},
		Timestamp:  proto.Float64(1712345678.123456),
		Uuid:       []byte("0123456789abcdef"),
		Healthy:    proto.Bool(true),
		CheckStatus: &mesospb.CheckStatusInfo{Type: mesospb.CheckInfo_HTTP.Enum(),
			Http: &mesospb.CheckStatusInfo_Http{StatusCode: proto.Uint32(200)}},
		Labels: &mesospb.Labels{Labels: []*mesospb.Label{{Key: proto.String("k"), Value: proto.String("v\u2603")}}},
		ContainerStatus: &mesospb.ContainerStatus{
			ContainerId: &mesospb.ContainerID{Value: proto.String("c2"), Parent: &mesospb.ContainerID{Value: proto.String("c1")}},
			NetworkInfos: []*mesospb.NetworkInfo{{IpAddresses: []*mesospb.NetworkInfo_IPAddress{
				{Protocol: mesospb.NetworkInfo_IPv6.Enum(), IpAddress: proto.String("::1")}}}},
			CgroupInfo: &mesospb.CgroupInfo{NetCls: &mesospb.CgroupInfo_NetCls{Classid: proto.Uint32(0x10001)}},
		},
		UnreachableTime: &mesospb.TimeInfo{Nanoseconds: proto.Int64(1 << 62)},
		Limitation: &mesospb.TaskResourceLimitation{Resources: []*mesospb.Resource{{
			Name: proto.String("mem"), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(64)}}}},
	}
}
