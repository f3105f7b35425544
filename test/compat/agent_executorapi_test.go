package compat

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// TestAgentExecutorAPI plays the executor exec-silent over raw HTTP, the
// way the Mesos executor docs describe it: SUBSCRIBE in JSON (a chunked
// RecordIO stream, one record per chunk, SUBSCRIBED with its fields, then
// LAUNCH), UPDATE acknowledged on the stream, MESSAGE both ways through
// the master and the framework, HEARTBEAT, a re-SUBSCRIBE in protobuf that
// ends the first stream, and the status codes of bad calls.
func TestAgentExecutorAPI(t *testing.T) {
	s := startAgentScene(t)
	ids := `"framework_id":{"value":"` + s.fw + `"},"executor_id":{"value":"exec-silent"}`
	url := s.ra.base + "/api/v1/executor"

	st := openStream(t, s.ra.addr, "/api/v1/executor", ctJSON, ctJSON, []byte(`{"type":"SUBSCRIBE",`+ids+`,"subscribe":{}}`))
	checkStreamHeaders(t, st, ctJSON)
	ev := jsonObj(t, st.mustNext())
	if str(ev["type"]) != "SUBSCRIBED" {
		t.Fatalf("first event %v", ev)
	}
	for _, p := range [][]any{
		{"subscribed", "executor_info", "executor_id", "value"},
		{"subscribed", "framework_info", "id", "value"},
		{"subscribed", "framework_info", "user"},
		{"subscribed", "agent_info", "id", "value"},
		{"subscribed", "agent_info", "hostname"},
		{"subscribed", "container_id", "value"},
	} {
		if str(path(ev, p...)) == "" {
			t.Errorf("SUBSCRIBED lacks %v: %v", p, ev)
		}
	}
	if ev = jsonObj(t, st.mustNext()); str(ev["type"]) != "LAUNCH" || str(path(ev, "launch", "task", "task_id", "value")) != "quiet" {
		t.Fatalf("second event %v", ev)
	}

	// UPDATE: 202, empty body, ACKNOWLEDGED on the stream, UPDATE at the framework.
	uuid := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	r := post(t, url, ctJSON, ctJSON, "", []byte(`{"type":"UPDATE",`+ids+`,"update":{"status":{"task_id":{"value":"quiet"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"`+uuid+`"}}}`))
	if r.status != 202 || len(r.body) != 0 {
		t.Fatalf("UPDATE: %d %q", r.status, r.body)
	}
	if ev = jsonObj(t, st.mustNext()); str(ev["type"]) != "ACKNOWLEDGED" || str(path(ev, "acknowledged", "uuid")) != uuid ||
		str(path(ev, "acknowledged", "task_id", "value")) != "quiet" {
		t.Fatalf("after UPDATE: %v", ev)
	}
	up := s.f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
	if up.GetTaskId().GetValue() != "quiet" || up.GetState() != mesospb.TaskState_TASK_RUNNING || string(up.GetUuid()) != "0123456789abcdef" {
		t.Fatalf("framework got %v", up)
	}
	s.f.ack(up)

	// MESSAGE executor → framework, and framework → executor.
	if r = post(t, url, ctJSON, ctJSON, "", []byte(`{"type":"MESSAGE",`+ids+`,"message":{"data":"aGk="}}`)); r.status != 202 {
		t.Fatalf("MESSAGE: %d %q", r.status, r.body)
	}
	if m := s.f.next(schedulerpb.Event_MESSAGE).GetMessage(); string(m.GetData()) != "hi" || m.GetExecutorId().GetValue() != "exec-silent" {
		t.Fatalf("framework message %v", m)
	}
	s.f.must(&schedulerpb.Call{Type: schedulerpb.Call_MESSAGE.Enum(), Message: &schedulerpb.Call_Message{
		AgentId: up.GetAgentId(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("exec-silent")}, Data: []byte("yo")}}, 202)
	if ev = jsonObj(t, st.mustNext()); str(ev["type"]) != "MESSAGE" || str(path(ev, "message", "data")) != "eW8=" {
		t.Fatalf("executor message %v", ev)
	}
	if r = post(t, url, ctJSON, ctJSON, "", []byte(`{"type":"HEARTBEAT",`+ids+`}`)); r.status != 202 {
		t.Fatalf("HEARTBEAT: %d %q", r.status, r.body)
	}

	// Re-SUBSCRIBE in protobuf: the old stream ends, the new one starts
	// with SUBSCRIBED; the task the executor reports is not launched again.
	sub, _ := proto.Marshal(&executorpb.Call{Type: executorpb.Call_SUBSCRIBE.Enum(),
		FrameworkId: s.f.fid, ExecutorId: &mesospb.ExecutorID{Value: proto.String("exec-silent")},
		Subscribe: &executorpb.Call_Subscribe{UnacknowledgedTasks: []*mesospb.TaskInfo{s.silent}}})
	st2 := openStream(t, s.ra.addr, "/api/v1/executor", ctProto, ctProto, sub)
	checkStreamHeaders(t, st2, ctProto)
	pev := &executorpb.Event{}
	if err := proto.Unmarshal(st2.mustNext(), pev); err != nil || pev.GetType() != executorpb.Event_SUBSCRIBED {
		t.Fatalf("protobuf SUBSCRIBED: %v %v", pev, err)
	}
	if _, err := st.next(); err != io.EOF {
		t.Fatalf("the superseded stream did not end: %v", err)
	}
	fin, _ := proto.Marshal(&executorpb.Call{Type: executorpb.Call_UPDATE.Enum(),
		FrameworkId: s.f.fid, ExecutorId: &mesospb.ExecutorID{Value: proto.String("exec-silent")},
		Update: &executorpb.Call_Update{Status: &mesospb.TaskStatus{TaskId: s.silent.GetTaskId(),
			State: mesospb.TaskState_TASK_FINISHED.Enum(), Uuid: []byte("fedcba9876543210")}}})
	if r = post(t, url, ctProto, ctProto, "", fin); r.status != 202 {
		t.Fatalf("protobuf UPDATE: %d %q", r.status, r.body)
	}
	if err := proto.Unmarshal(st2.mustNext(), pev); err != nil || pev.GetType() != executorpb.Event_ACKNOWLEDGED ||
		string(pev.GetAcknowledged().GetUuid()) != "fedcba9876543210" {
		t.Fatalf("protobuf ACKNOWLEDGED: %v %v", pev, err)
	}

	for _, c := range []struct {
		ctype, body string
		want        int
		msg         string
	}{
		{ctJSON, `{"type":"SUBSCRIBE","framework_id":{"value":"` + s.fw + `"},"executor_id":{"value":"nobody"},"subscribe":{}}`, 400, "nobody"},
		{ctJSON, `{"type":"SUBSCRIBE","framework_id":{"value":"` + s.fw + `"},"subscribe":{}}`, 400, "executor_id"},
		{ctJSON, `{"type":"SUBSCRIBE",` + ids + `}`, 400, "subscribe"},
		{ctJSON, `{"type":"UPDATE",` + ids + `,"update":{"status":{"task_id":{"value":"quiet"},"state":"TASK_RUNNING","uuid":"AAEC"}}}`, 400, "uuid"},
		{ctJSON, `{"type":"UPDATE",` + ids + `,"update":{"status":{"task_id":{"value":"quiet"},"state":"TASK_STAGING","uuid":"` + uuid + `"}}}`, 400, "TASK_STAGING"},
		{ctJSON, `{"type":"MESSAGE",` + ids + `}`, 400, "message"},
		{ctJSON, `{"type":`, 400, ""},
		{"text/plain", `{"type":"HEARTBEAT",` + ids + `}`, 415, ""},
	} {
		r := post(t, url, c.ctype, ctJSON, "", []byte(c.body))
		if r.status != c.want || !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.body, r.status, r.body, c.want, c.msg)
		}
	}
	if g := get(t, url); g.status != 405 {
		t.Errorf("GET /api/v1/executor: %d", g.status)
	}
}
