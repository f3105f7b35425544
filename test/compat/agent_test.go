package compat

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/master/gossip"
	"google.golang.org/protobuf/proto"
)

// fakeAgent plays an agent on Cairn's internal protocol: it joins the
// master's gossip pool, answers /internal/v1/state, and runs each launched
// task as a scripted sequence of status updates, each resent until the
// framework's acknowledgement comes back through the master.
type fakeAgent struct {
	t      *testing.T
	master string
	srv    *httptest.Server
	g      *gossip.Gossip

	mu         sync.Mutex
	id         string
	got        map[string][]proto.Message // path → messages received
	acked      map[string]chan struct{}   // uuid → closed when acknowledged
	killed     map[string]chan struct{}   // task id → closed on kill_task
	registered chan struct{}
	wg         sync.WaitGroup
	ctx        context.Context
}

// resources of the fake agent.
var agentResources = []*mesospb.Resource{
	scalar("cpus", 4), scalar("mem", 4096), scalar("disk", 10000),
	{Name: proto.String("ports"), Type: mesospb.Value_RANGES.Enum(), Ranges: &mesospb.Value_Ranges{
		Range: []*mesospb.Value_Range{{Begin: proto.Uint64(31000), End: proto.Uint64(32000)}}}},
}

func scalar(name string, v float64) *mesospb.Resource {
	return &mesospb.Resource{Name: proto.String(name), Type: mesospb.Value_SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: proto.Float64(v)}}
}

func startFakeAgent(t *testing.T, masterBase string) *fakeAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &fakeAgent{t: t, master: masterBase, got: map[string][]proto.Message{}, acked: map[string]chan struct{}{},
		killed: map[string]chan struct{}{}, registered: make(chan struct{}), ctx: ctx}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	u, _ := url.Parse(a.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	meta, err := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleAgent, HTTPPort: uint16(port), Hostname: "compat-agent"})
	if err != nil {
		t.Fatal(err)
	}
	seeds := &internalpb.GossipSeeds{}
	if err := getProto(masterBase+"/internal/v1/gossip", seeds); err != nil {
		t.Fatal(err)
	}
	a.g, err = gossip.New(gossip.Config{Name: "agent@" + u.Host, BindAddr: "127.0.0.1", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		a.g.Close()
		a.srv.Close()
		a.wg.Wait()
	})
	if _, err := a.g.Join(seeds.GetAddresses()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.registered:
	case <-time.After(20 * time.Second):
		t.Fatal("fake agent not admitted")
	}
	return a
}

func getProto(url string, msg proto.Message) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, msg)
}

func (a *fakeAgent) agentID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// received returns the messages posted to path so far.
func (a *fakeAgent) received(path string) []proto.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]proto.Message(nil), a.got[path]...)
}

// waitFor waits until a message arrived at path.
func (a *fakeAgent) waitFor(t *testing.T, path string) proto.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if msgs := a.received(path); len(msgs) > 0 {
			return msgs[len(msgs)-1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing posted to %s", path)
	return nil
}

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path[len("/internal/v1/"):]
	if r.Method == http.MethodGet && path == "state" {
		info := &mesospb.AgentInfo{Hostname: proto.String("compat-agent"), Resources: agentResources}
		if id := a.agentID(); id != "" {
			info.Id = &mesospb.AgentID{Value: proto.String(id)}
		}
		b, _ := proto.Marshal(&internalpb.AgentState{AgentInfo: info, Version: proto.String("compat")})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var msg proto.Message
	switch path {
	case "registered":
		msg = &internalpb.Registered{}
	case "run_tasks":
		msg = &internalpb.RunTasks{}
	case "kill_task":
		msg = &internalpb.KillTask{}
	case "status_update_ack":
		msg = &internalpb.StatusUpdateAck{}
	case "framework_message":
		msg = &internalpb.FrameworkToExecutor{}
	case "shutdown_executor":
		msg = &internalpb.ShutdownExecutor{}
	case "shutdown_framework":
		msg = &internalpb.ShutdownFramework{}
	case "checkpoint_resources":
		msg = &internalpb.CheckpointResources{}
	default:
		http.NotFound(w, r)
		return
	}
	if err := proto.Unmarshal(body, msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	a.mu.Lock()
	a.got[path] = append(a.got[path], msg)
	a.mu.Unlock()
	switch m := msg.(type) {
	case *internalpb.Registered:
		a.mu.Lock()
		first := a.id == ""
		a.id = m.GetAgentId().GetValue()
		a.mu.Unlock()
		if first {
			close(a.registered)
		}
	case *internalpb.RunTasks:
		for _, ti := range m.GetTasks() {
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				a.run(m.GetFrameworkInfo().GetId(), ti)
			}()
		}
	case *internalpb.StatusUpdateAck:
		a.mu.Lock()
		if ch, ok := a.acked[string(m.GetUuid())]; ok {
			close(ch)
			delete(a.acked, string(m.GetUuid()))
		}
		a.mu.Unlock()
	case *internalpb.KillTask:
		a.mu.Lock()
		if ch, ok := a.killed[m.GetTaskId().GetValue()]; ok {
			close(ch)
			delete(a.killed, m.GetTaskId().GetValue())
		}
		a.mu.Unlock()
	}
}

// run plays a task: STARTING, RUNNING, then FINISHED; a task whose command
// is "sleep" waits for a kill and ends KILLED instead.
func (a *fakeAgent) run(fid *mesospb.FrameworkID, ti *mesospb.TaskInfo) {
	kill := make(chan struct{})
	a.mu.Lock()
	a.killed[ti.GetTaskId().GetValue()] = kill
	a.mu.Unlock()
	states := []mesospb.TaskState{mesospb.TaskState_TASK_STARTING, mesospb.TaskState_TASK_RUNNING}
	for _, s := range states {
		if !a.update(fid, ti, s) {
			return
		}
	}
	final := mesospb.TaskState_TASK_FINISHED
	if ti.GetCommand().GetValue() == "sleep" {
		select {
		case <-kill:
			final = mesospb.TaskState_TASK_KILLED
		case <-a.ctx.Done():
			return
		}
	}
	a.update(fid, ti, final)
}

// update sends one reliable status update until it is acknowledged.
func (a *fakeAgent) update(fid *mesospb.FrameworkID, ti *mesospb.TaskInfo, state mesospb.TaskState) bool {
	uuid := make([]byte, 16)
	copy(uuid, ti.GetTaskId().GetValue()+"-"+state.String())
	uuid[15] = byte(state)
	acked := make(chan struct{})
	a.mu.Lock()
	a.acked[string(uuid)] = acked
	a.mu.Unlock()
	aid := &mesospb.AgentID{Value: proto.String(a.agentID())}
	eid := &mesospb.ExecutorID{Value: proto.String(ti.GetTaskId().GetValue())}
	su := &internalpb.StatusUpdate{
		FrameworkId: fid, AgentId: aid, ExecutorId: eid, LatestState: state.Enum(),
		Status: &mesospb.TaskStatus{
			TaskId: ti.GetTaskId(), State: state.Enum(), Source: mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
			Uuid: uuid, AgentId: aid, ExecutorId: eid, Timestamp: proto.Float64(float64(time.Now().UnixNano()) / 1e9),
		},
	}
	body, _ := proto.Marshal(su)
	for {
		res, err := http.Post(a.master+"/internal/v1/status_update", "application/x-protobuf", bytes.NewReader(body))
		if err == nil {
			res.Body.Close()
		}
		select {
		case <-acked:
			return true
		case <-a.ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}
