package master

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// The fuzz targets drive a whole master (its loop and HTTP handler) with
// arbitrary call bodies in both codecs. Bodies may contain the placeholders
// FWID, AGENTID, OFFERID and TASKID, replaced by the ids of a live framework,
// agent, offer and task before sending, so that mutations reach the deep
// paths (accepts, kills, acknowledgements) and not only the decoder. Every
// request must be answered within fuzzDeadline: a slower answer is a hang.

const fuzzDeadline = 5 * time.Second

// fuzzEnv is one master shared by all inputs of a fuzz run, with a
// subscribed framework, an admitted fake agent and, when possible, an
// outstanding offer and a launched task.
type fuzzEnv struct {
	m      *Master
	srv    *httptest.Server
	agent  *httptest.Server
	mu     sync.Mutex
	fw     ids.FrameworkID
	stream string
	nodes  int
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	m, srv := testMaster(f)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	f.Cleanup(agent.Close)
	return &fuzzEnv{m: m, srv: srv, agent: agent}
}

// ensure (re)creates the framework and the agent if an input removed them,
// and returns the ids to substitute.
func (e *fuzzEnv) ensure(t *testing.T) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var fwLive bool
	var agentID, offerID, taskID string
	e.m.do(context.Background(), func() {
		f, ok := e.m.core.frameworks[e.fw]
		fwLive = ok && f.stream == e.stream
		if len(e.m.core.agents) == 0 {
			e.nodes++
			addr := mustAddr(e.agent.Listener.Addr().String())
			st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{
				Hostname:  proto.String("fuzz-agent"),
				Resources: toProto(mustParse("cpus:64;mem:65536;disk:100000;ports:[31000-32000]"), ""),
			}}
			e.m.core.AdmitAgent(st, addr, "", "agent@fuzz-"+string(rune('a'+e.nodes%26)), time.Now())
		}
		for id := range e.m.core.agents {
			agentID = string(id)
		}
	})
	if !fwLive {
		e.subscribe(t)
	}
	e.m.do(context.Background(), func() {
		if f, ok := e.m.core.frameworks[e.fw]; ok {
			for id := range f.offers {
				offerID = string(id)
			}
			for id := range f.tasks {
				taskID = string(id)
			}
		}
	})
	return map[string]string{"FWID": string(e.fw), "AGENTID": agentID, "OFFERID": offerID, "TASKID": taskID}
}

// subscribe opens a framework stream that is drained in the background.
func (e *fuzzEnv) subscribe(t *testing.T) {
	info := fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE)
	info.FailoverTimeout = proto.Float64(3600)
	body, _ := api.JSON.Marshal(subscribeCall(info))
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", api.ContentTypeJSON)
	res, err := e.srv.Client().Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("subscribe the fuzz framework: %v %v", err, res)
	}
	e.stream = res.Header.Get(streamIDHeader)
	rd := newReader(res.Body)
	rec, err := rd.Next()
	if err != nil {
		t.Fatalf("read SUBSCRIBED: %v", err)
	}
	ev := &schedulerpb.Event{}
	if err := api.JSON.Unmarshal(rec, ev); err != nil {
		t.Fatal(err)
	}
	e.fw = ids.FrameworkID(ev.GetSubscribed().GetFrameworkId().GetValue())
	go func() {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}()
}

// watchdog dumps every goroutine and exits if one input takes longer than a
// hang would: the fuzzer then reports the input with the stacks.
func watchdog() *time.Timer {
	return time.AfterFunc(4*fuzzDeadline, func() {
		buf := make([]byte, 4<<20)
		n := runtime.Stack(buf, true)
		os.Stderr.Write(buf[:n])
		os.Exit(3)
	})
}

// substitute replaces the placeholders in body.
func substitute(body []byte, ids map[string]string) []byte {
	for k, v := range ids {
		body = bytes.ReplaceAll(body, []byte(k), []byte(v))
	}
	return body
}

// fire posts body and reads the answer; a stream (200 to a SUBSCRIBE) is
// cut after its headers. It fails the test if the master does not answer
// in time or answers a status that no Mesos rule allows.
func fire(t *testing.T, srv *httptest.Server, path, ctype, accept, stream string, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if stream != "" {
		req.Header.Set(streamIDHeader, stream)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("no answer within %v to %q", fuzzDeadline, body)
		}
		t.Fatalf("request: %v", err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusForbidden,
		http.StatusNotFound, http.StatusConflict, http.StatusNotImplemented:
	default:
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		t.Fatalf("status %d (%s) for %q", res.StatusCode, b, body)
	}
	if res.StatusCode == http.StatusOK && res.Header.Get("Content-Length") == "" && res.ContentLength < 0 {
		return // an event stream: headers were enough
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil && ctx.Err() != nil {
		t.Fatalf("body not finished within %v for %q", fuzzDeadline, body)
	}
}

func codecFor(protobuf bool) api.Codec {
	if protobuf {
		return api.Protobuf
	}
	return api.JSON
}

func seedCall(f *testing.F, msg proto.Message, withStream bool) {
	for _, pb := range []bool{false, true} {
		b, err := codecFor(pb).Marshal(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, pb, withStream)
	}
}

func FuzzSchedulerCall(f *testing.F) {
	fid := &mesospb.FrameworkID{Value: proto.String("FWID")}
	aid := &mesospb.AgentID{Value: proto.String("AGENTID")}
	oid := &mesospb.OfferID{Value: proto.String("OFFERID")}
	tid := &mesospb.TaskID{Value: proto.String("TASKID")}
	sc := func(t schedulerpb.Call_Type) *schedulerpb.Call {
		return &schedulerpb.Call{Type: t.Enum(), FrameworkId: fid}
	}
	info := fwInfo(mesospb.FrameworkInfo_Capability_MULTI_ROLE)
	info.Roles = []string{"a", "b"}
	seedCall(f, subscribeCall(info), false)
	seedCall(f, &schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum(), FrameworkId: fid,
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("u"), Name: proto.String("n"), Id: fid}}}, false)
	accept := sc(schedulerpb.Call_ACCEPT)
	accept.Accept = &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{oid}, Operations: []*mesospb.Offer_Operation{{
		Type: mesospb.Offer_Operation_LAUNCH.Enum(),
		Launch: &mesospb.Offer_Operation_Launch{TaskInfos: []*mesospb.TaskInfo{
			command("t1", aid, "cpus:0.1;mem:32"),
			{Name: proto.String("e"), TaskId: &mesospb.TaskID{Value: proto.String("t2")}, AgentId: aid,
				Resources: toProto(mustParse("cpus:0.1;mem:32"), ""),
				Executor: &mesospb.ExecutorInfo{ExecutorId: &mesospb.ExecutorID{Value: proto.String("ex")},
					Command: &mesospb.CommandInfo{Value: proto.String("run")}}},
		}},
	}}}
	seedCall(f, accept, true)
	group := sc(schedulerpb.Call_ACCEPT)
	group.Accept = &schedulerpb.Call_Accept{OfferIds: []*mesospb.OfferID{oid}, Operations: []*mesospb.Offer_Operation{{
		Type: mesospb.Offer_Operation_LAUNCH_GROUP.Enum(),
		LaunchGroup: &mesospb.Offer_Operation_LaunchGroup{
			Executor: &mesospb.ExecutorInfo{Type: mesospb.ExecutorInfo_DEFAULT.Enum(), ExecutorId: &mesospb.ExecutorID{Value: proto.String("g")},
				Resources: toProto(mustParse("cpus:0.1;mem:32"), "")},
			TaskGroup: &mesospb.TaskGroupInfo{Tasks: []*mesospb.TaskInfo{command("g1", aid, "cpus:0.1"), command("g2", aid, "mem:32")}},
		},
	}}}
	seedCall(f, group, true)
	decline := sc(schedulerpb.Call_DECLINE)
	decline.Decline = &schedulerpb.Call_Decline{OfferIds: []*mesospb.OfferID{oid}, Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(1)}}
	seedCall(f, decline, true)
	kill := sc(schedulerpb.Call_KILL)
	kill.Kill = &schedulerpb.Call_Kill{TaskId: tid, AgentId: aid}
	seedCall(f, kill, true)
	ack := sc(schedulerpb.Call_ACKNOWLEDGE)
	ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: aid, TaskId: tid, Uuid: []byte("0123456789abcdef")}
	seedCall(f, ack, true)
	rec := sc(schedulerpb.Call_RECONCILE)
	rec.Reconcile = &schedulerpb.Call_Reconcile{Tasks: []*schedulerpb.Call_Reconcile_Task{{TaskId: tid, AgentId: aid}}}
	seedCall(f, rec, true)
	msg := sc(schedulerpb.Call_MESSAGE)
	msg.Message = &schedulerpb.Call_Message{AgentId: aid, ExecutorId: &mesospb.ExecutorID{Value: proto.String("ex")}, Data: []byte("hi")}
	seedCall(f, msg, true)
	shut := sc(schedulerpb.Call_SHUTDOWN)
	shut.Shutdown = &schedulerpb.Call_Shutdown{AgentId: aid, ExecutorId: &mesospb.ExecutorID{Value: proto.String("ex")}}
	seedCall(f, shut, true)
	upd := sc(schedulerpb.Call_UPDATE_FRAMEWORK)
	upd.UpdateFramework = &schedulerpb.Call_UpdateFramework{FrameworkInfo: fwInfo(mesospb.FrameworkInfo_Capability_PARTITION_AWARE)}
	seedCall(f, upd, true)
	for _, t := range []schedulerpb.Call_Type{schedulerpb.Call_REVIVE, schedulerpb.Call_SUPPRESS, schedulerpb.Call_REQUEST,
		schedulerpb.Call_TEARDOWN} {
		seedCall(f, sc(t), true)
	}
	f.Add([]byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":1e308,"roles":["*"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`), false, false)
	f.Add([]byte(`{"type":7,"framework_id":{"value":"FWID"},"kill":{"task_id":{"value":"TASKID"}}}`), false, true)

	env := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte, protobuf, withStream bool) {
		defer watchdog().Stop()
		ids := env.ensure(t)
		stream := ""
		if withStream {
			stream = env.stream
		}
		fire(t, env.srv, "/api/v1/scheduler", codecFor(protobuf).ContentType(), "", stream, substitute(body, ids))
	})
}

func FuzzOperatorCall(f *testing.F) {
	aid := &mesospb.AgentID{Value: proto.String("AGENTID")}
	fid := &mesospb.FrameworkID{Value: proto.String("FWID")}
	oc := func(t masterpb.Call_Type) *masterpb.Call { return &masterpb.Call{Type: t.Enum()} }
	for t := range masterpb.Call_Type_name {
		seedCall(f, oc(masterpb.Call_Type(t)), false)
	}
	res := toProto(mustParse("cpus(eng):1;mem(eng):64"), "")
	for _, r := range res {
		r.Reservations = []*mesospb.Resource_ReservationInfo{{Type: mesospb.Resource_ReservationInfo_DYNAMIC.Enum(), Role: proto.String("eng")}}
		r.Role = nil
	}
	calls := []*masterpb.Call{
		{Type: masterpb.Call_RESERVE_RESOURCES.Enum(), ReserveResources: &masterpb.Call_ReserveResources{AgentId: aid, Resources: res}},
		{Type: masterpb.Call_UNRESERVE_RESOURCES.Enum(), UnreserveResources: &masterpb.Call_UnreserveResources{AgentId: aid, Resources: res}},
		{Type: masterpb.Call_UPDATE_WEIGHTS.Enum(), UpdateWeights: &masterpb.Call_UpdateWeights{WeightInfos: []*mesospb.WeightInfo{{Role: proto.String("eng"), Weight: proto.Float64(2)}}}},
		{Type: masterpb.Call_TEARDOWN.Enum(), Teardown: &masterpb.Call_Teardown{FrameworkId: fid}},
		{Type: masterpb.Call_MARK_AGENT_GONE.Enum(), MarkAgentGone: &masterpb.Call_MarkAgentGone{AgentId: aid}},
		{Type: masterpb.Call_DRAIN_AGENT.Enum(), DrainAgent: &masterpb.Call_DrainAgent{AgentId: aid}},
		{Type: masterpb.Call_DEACTIVATE_AGENT.Enum(), DeactivateAgent: &masterpb.Call_DeactivateAgent{AgentId: aid}},
		{Type: masterpb.Call_REACTIVATE_AGENT.Enum(), ReactivateAgent: &masterpb.Call_ReactivateAgent{AgentId: aid}},
		{Type: masterpb.Call_REMOVE_QUOTA.Enum(), RemoveQuota: &masterpb.Call_RemoveQuota{Role: proto.String("eng")}},
		{Type: masterpb.Call_SET_LOGGING_LEVEL.Enum(), SetLoggingLevel: &masterpb.Call_SetLoggingLevel{Level: proto.Uint32(1), Duration: &mesospb.DurationInfo{Nanoseconds: proto.Int64(1e6)}}},
		{Type: masterpb.Call_READ_FILE.Enum(), ReadFile: &masterpb.Call_ReadFile{Path: proto.String("/master/log"), Offset: proto.Uint64(0)}},
	}
	for _, c := range calls {
		seedCall(f, c, false)
	}
	f.Add([]byte(`{"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[{"role":"dev","limits":{"cpus":{"value":10}},"guarantees":{"mem":{"value":1e300}}}]}}`), false, false)
	f.Add([]byte(`{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"eng","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}}}`), false, false)

	env := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte, protobuf, accept bool) {
		defer watchdog().Stop()
		ids := env.ensure(t)
		acc := ""
		if accept {
			acc = api.ContentTypeProtobuf
		}
		fire(t, env.srv, "/api/v1", codecFor(protobuf).ContentType(), acc, "", substitute(body, ids))
	})
}
