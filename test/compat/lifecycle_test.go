package compat

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// pbFramework is a scheduler written against the protobuf codec with the
// generated wire types only.
type pbFramework struct {
	t      *testing.T
	c      *cluster
	s      *rawStream
	sid    string
	fid    *mesospb.FrameworkID
	offers []*mesospb.Offer // skipped by next while waiting for other events
}

func subscribePB(t *testing.T, c *cluster, info *mesospb.FrameworkInfo) *pbFramework {
	t.Helper()
	body, _ := proto.Marshal(&schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: info}})
	s := openStream(t, c.addr, "/api/v1/scheduler", ctProto, ctProto, body)
	checkStreamHeaders(t, s, ctProto)
	f := &pbFramework{t: t, c: c, s: s, sid: s.header.Get("Mesos-Stream-Id")}
	ev := f.next(schedulerpb.Event_SUBSCRIBED)
	f.fid = ev.GetSubscribed().GetFrameworkId()
	return f
}

// next returns the next event of type typ, skipping others but keeping
// the offers it skips (in f.offers), since an outstanding offer is not made
// again.
func (f *pbFramework) next(typ schedulerpb.Event_Type) *schedulerpb.Event {
	f.t.Helper()
	if typ == schedulerpb.Event_OFFERS && len(f.offers) > 0 {
		ev := &schedulerpb.Event{Type: typ.Enum(), Offers: &schedulerpb.Event_Offers{Offers: f.offers}}
		f.offers = nil
		return ev
	}
	f.s.await(15 * time.Second)
	for {
		ev := &schedulerpb.Event{}
		if err := proto.Unmarshal(f.s.mustNext(), ev); err != nil {
			f.t.Fatalf("decode event: %v", err)
		}
		if ev.GetType() == typ {
			return ev
		}
		if ev.GetType() == schedulerpb.Event_OFFERS {
			f.offers = append(f.offers, ev.GetOffers().GetOffers()...)
		}
	}
}

// call sends a call on its own connection and returns the status.
func (f *pbFramework) call(c *schedulerpb.Call) reply {
	f.t.Helper()
	c.FrameworkId = f.fid
	body, err := proto.Marshal(c)
	if err != nil {
		f.t.Fatal(err)
	}
	return post(f.t, f.c.base+"/api/v1/scheduler", ctProto, ctProto, f.sid, body)
}

func (f *pbFramework) must(c *schedulerpb.Call, want int) {
	f.t.Helper()
	if r := f.call(c); r.status != want {
		f.t.Fatalf("%s: %d %q, want %d", c.GetType(), r.status, r.body, want)
	}
}

func (f *pbFramework) ack(st *mesospb.TaskStatus) {
	f.t.Helper()
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_ACKNOWLEDGE.Enum(), Acknowledge: &schedulerpb.Call_Acknowledge{
		AgentId: st.GetAgentId(), TaskId: st.GetTaskId(), Uuid: st.GetUuid()}}, 202)
}

func checkOffer(t *testing.T, o *mesospb.Offer, multiRole bool) {
	t.Helper()
	if o.GetId().GetValue() == "" || o.GetFrameworkId().GetValue() == "" || o.GetAgentId().GetValue() == "" || o.Hostname == nil {
		t.Errorf("offer lacks a required field: %v", o)
	}
	if o.GetUrl().GetScheme() != "http" || o.GetUrl().GetPath() != "/slave(1)" || o.GetUrl().GetAddress().GetPort() == 0 {
		t.Errorf("offer url = %v", o.GetUrl())
	}
	if multiRole != (o.AllocationInfo != nil) {
		t.Errorf("offer allocation_info %v for multi-role %v", o.AllocationInfo, multiRole)
	}
	for _, r := range o.GetResources() {
		if r.Name == nil || r.Type == nil {
			t.Errorf("resource lacks name or type: %v", r)
		}
		if multiRole != (r.AllocationInfo != nil) {
			t.Errorf("resource allocation_info %v for multi-role %v", r.AllocationInfo, multiRole)
		}
	}
}

func task(id string, agent *mesospb.AgentID, cmd string) *mesospb.TaskInfo {
	return &mesospb.TaskInfo{Name: proto.String(id), TaskId: &mesospb.TaskID{Value: proto.String(id)}, AgentId: agent,
		Resources: []*mesospb.Resource{scalar("cpus", 0.5), scalar("mem", 64)},
		Command:   &mesospb.CommandInfo{Value: proto.String(cmd)}}
}

func launchCall(offer *mesospb.Offer, tasks ...*mesospb.TaskInfo) *schedulerpb.Call {
	return &schedulerpb.Call{Type: schedulerpb.Call_ACCEPT.Enum(), Accept: &schedulerpb.Call_Accept{
		OfferIds: []*mesospb.OfferID{offer.GetId()},
		Operations: []*mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_LAUNCH.Enum(),
			Launch: &mesospb.Offer_Operation_Launch{TaskInfos: tasks}}},
		Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(0)},
	}}
}

// TestTaskLifecycle: offers → ACCEPT → STARTING/RUNNING/FINISHED, each
// acknowledged and relayed to the agent; then RECONCILE, KILL, MESSAGE,
// SHUTDOWN and TEARDOWN.
func TestTaskLifecycle(t *testing.T) {
	c := startCluster(t)
	f := subscribePB(t, c, &mesospb.FrameworkInfo{User: proto.String("compat"), Name: proto.String("life"),
		FailoverTimeout: proto.Float64(60)})
	offer := f.next(schedulerpb.Event_OFFERS).GetOffers().GetOffers()[0]
	checkOffer(t, offer, false)
	f.must(launchCall(offer, task("t1", offer.GetAgentId(), "true"), task("long", offer.GetAgentId(), "sleep")), 202)

	seen := map[string][]mesospb.TaskState{}
	for len(seen["t1"]) < 3 || len(seen["long"]) < 2 {
		st := f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
		if len(st.GetUuid()) != 16 || st.GetAgentId().GetValue() == "" || st.TaskId == nil || st.State == nil {
			t.Fatalf("update lacks uuid, agent_id, task_id or state: %v", st)
		}
		seen[st.GetTaskId().GetValue()] = append(seen[st.GetTaskId().GetValue()], st.GetState())
		f.ack(st)
	}
	want := []mesospb.TaskState{mesospb.TaskState_TASK_STARTING, mesospb.TaskState_TASK_RUNNING, mesospb.TaskState_TASK_FINISHED}
	for i, s := range want {
		if seen["t1"][i] != s {
			t.Errorf("t1 states %v, want %v", seen["t1"], want)
		}
	}
	c.agent.waitFor(t, "status_update_ack")

	// The next offer names the running tasks' executors (a command
	// executor's id is its task's id); t1 may still be running when it is
	// made.
	var next *mesospb.Offer
	for next == nil {
		for _, o := range f.next(schedulerpb.Event_OFFERS).GetOffers().GetOffers() {
			next = o
		}
	}
	hasLong := false
	for _, id := range next.GetExecutorIds() {
		hasLong = hasLong || id.GetValue() == "long"
		if id.GetValue() != "long" && id.GetValue() != "t1" {
			t.Errorf("executor_ids has %q", id.GetValue())
		}
	}
	if !hasLong {
		t.Errorf("executor_ids = %v, want long among them", next.GetExecutorIds())
	}
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_DECLINE.Enum(), Decline: &schedulerpb.Call_Decline{
		OfferIds: []*mesospb.OfferID{next.GetId()}}}, 202)

	// Explicit reconciliation: the latest state, no uuid.
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_RECONCILE.Enum(), Reconcile: &schedulerpb.Call_Reconcile{
		Tasks: []*schedulerpb.Call_Reconcile_Task{{TaskId: &mesospb.TaskID{Value: proto.String("long")}}}}}, 202)
	st := f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
	if st.GetReason() != mesospb.TaskStatus_REASON_RECONCILIATION || st.Uuid != nil || st.GetState() != mesospb.TaskState_TASK_RUNNING {
		t.Errorf("reconciliation = %v", st)
	}

	// MESSAGE goes to the agent; SHUTDOWN too.
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_MESSAGE.Enum(), Message: &schedulerpb.Call_Message{
		AgentId: offer.GetAgentId(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("long")}, Data: []byte("hello")}}, 202)
	fm := c.agent.waitFor(t, "framework_message").(*internalpb.FrameworkToExecutor)
	if string(fm.GetData()) != "hello" || fm.GetExecutorId().GetValue() != "long" {
		t.Errorf("framework_message = %v", fm)
	}

	// KILL: the agent kills, the framework sees TASK_KILLED.
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_KILL.Enum(), Kill: &schedulerpb.Call_Kill{
		TaskId: &mesospb.TaskID{Value: proto.String("long")}, AgentId: offer.GetAgentId()}}, 202)
	for {
		st := f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
		f.ack(st)
		if st.GetState() == mesospb.TaskState_TASK_KILLED {
			break
		}
	}
	// KILL of an unknown task: TASK_LOST (not partition-aware), no uuid.
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_KILL.Enum(), Kill: &schedulerpb.Call_Kill{
		TaskId: &mesospb.TaskID{Value: proto.String("ghost")}}}, 202)
	if st := f.next(schedulerpb.Event_UPDATE).GetUpdate().GetStatus(); st.GetState() != mesospb.TaskState_TASK_LOST || st.Uuid != nil {
		t.Errorf("kill of an unknown task = %v", st)
	}
	f.must(&schedulerpb.Call{Type: schedulerpb.Call_SHUTDOWN.Enum(), Shutdown: &schedulerpb.Call_Shutdown{
		AgentId: offer.GetAgentId(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("long")}}}, 202)
	c.agent.waitFor(t, "shutdown_executor")

	f.must(&schedulerpb.Call{Type: schedulerpb.Call_TEARDOWN.Enum()}, 202)
	f.s.await(15 * time.Second)
	for {
		if _, err := f.s.next(); err != nil {
			break // the master ends the stream
		}
		if time.Now().After(f.s.waitTo) {
			t.Fatal("stream not ended after TEARDOWN")
		}
	}
}

// TestMultiRoleOffers: a MULTI_ROLE framework's offers and their resources
// carry allocation_info; the JSON codec shows them too.
func TestMultiRoleOffers(t *testing.T) {
	c := startCluster(t)
	s, _, _ := subscribeJSONStream(t, c, `,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}]`)
	ev := nextJSON(t, s, "OFFERS")
	o := path(ev, "offers", "offers", 0)
	if str(path(o, "allocation_info", "role")) != "web" || str(path(o, "resources", 0, "allocation_info", "role")) != "web" {
		t.Errorf("multi-role offer = %v", o)
	}
	if path(o, "url", "path") != "/slave(1)" {
		t.Errorf("offer url = %v", path(o, "url"))
	}
}

// TestJSONAckRoundTrip: a JSON framework acknowledges with the base64 uuid
// it received.
func TestJSONAckRoundTrip(t *testing.T) {
	c := startCluster(t)
	s, sid, fid := subscribeJSONStream(t, c, "")
	o := path(nextJSON(t, s, "OFFERS"), "offers", "offers", 0)
	oid, aid := str(path(o, "id", "value")), str(path(o, "agent_id", "value"))
	accept := fmt.Sprintf(`{"type":"ACCEPT","framework_id":{"value":%q},"accept":{"offer_ids":[{"value":%q}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"j","task_id":{"value":"j1"},"agent_id":{"value":%q},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],"command":{"value":"true"}}]}}]}}`, fid, oid, aid)
	if r := post(t, c.base+"/api/v1/scheduler", ctJSON, "", sid, []byte(accept)); r.status != 202 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	for done := false; !done; {
		st := path(nextJSON(t, s, "UPDATE"), "update", "status")
		u := str(path(st, "uuid"))
		if b, err := base64.StdEncoding.DecodeString(u); err != nil || len(b) != 16 {
			t.Fatalf("uuid %q is not base64 of 16 bytes", u)
		}
		ack := fmt.Sprintf(`{"type":"ACKNOWLEDGE","framework_id":{"value":%q},"acknowledge":{"agent_id":{"value":%q},"task_id":{"value":"j1"},"uuid":%q}}`, fid, aid, u)
		if r := post(t, c.base+"/api/v1/scheduler", ctJSON, "", sid, []byte(ack)); r.status != 202 {
			t.Fatalf("ack: %d %s", r.status, r.body)
		}
		done = str(path(st, "state")) == "TASK_FINISHED"
	}
}
