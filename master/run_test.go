package master

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	cairnids "github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/master/gossip"
	"google.golang.org/protobuf/proto"
)

// TestRunAdmitsGossipAgentAndLosesIt runs a real master on loopback, lets a
// fake agent (an HTTP server plus a gossip member) join, launches a task on
// it, then kills the agent's gossip without a goodbye: the task must be
// reported TASK_LOST with REASON_AGENT_REMOVED.
func TestRunAdmitsGossipAgentAndLosesIt(t *testing.T) {
	if testing.Short() {
		kerneltest.Skip(t, "-short: waits for gossip failure detection")
	}
	m, err := New(Config{IP: "127.0.0.1", Port: 0, GossipPort: 0, WorkDir: t.TempDir(), Hostname: "m",
		AllocationInterval: 100 * time.Millisecond, HeartbeatInterval: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-m.Ready()
	base := "http://" + m.Addr().String()

	// The fake agent.
	got := make(chan string, 100)
	agentSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/internal/v1/state" {
			st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("fake"),
				Resources: toProto(mustParse("cpus:2;mem:512"), "")}}
			b, _ := proto.Marshal(st)
			w.Header().Set("Content-Type", api.ContentTypeProtobuf)
			w.Write(b)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		got <- r.URL.Path
	}))
	defer agentSrv.Close()
	u, _ := url.Parse(agentSrv.URL)
	port := u.Port()
	var httpPort uint16
	for _, c := range port {
		httpPort = httpPort*10 + uint16(c-'0')
	}
	meta, err := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleAgent, HTTPPort: httpPort, Hostname: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	seeds := &internalpb.GossipSeeds{}
	if err := endpoint.Get(ctx, http.DefaultClient, base+"/internal/v1/gossip", seeds); err != nil {
		t.Fatal(err)
	}
	if len(seeds.GetAddresses()) != 1 || seeds.GetMasterInfo().GetPort() != uint32(m.Addr().Port()) {
		t.Fatalf("seeds = %v", seeds)
	}
	ag, err := gossip.New(gossip.Config{Name: "agent@" + u.Host, BindAddr: "127.0.0.1", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	// The master advertises its first non-loopback address when bound to a
	// specific IP it is that IP: 127.0.0.1 here.
	if _, err := ag.Join(seeds.GetAddresses()); err != nil {
		t.Fatal(err)
	}
	for p := range got {
		if p == "/internal/v1/registered" {
			break
		}
	}

	// A framework launches a task on it.
	res, err := http.Post(base+"/api/v1/scheduler", api.ContentTypeJSON,
		strings.NewReader(string(mustJSON(t, subscribeCall(fwInfo())))))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	defer res.Body.Close()
	s := &eventStream{res: res, r: newReader(res.Body), codec: api.JSON}
	fid := s.next(t).GetSubscribed().GetFrameworkId().GetValue()
	sid := res.Header.Get(streamIDHeader)
	offer := s.nextOf(t, schedulerpb.Event_OFFERS).GetOffers().GetOffers()[0]
	acc := acceptCall(fwID(fid), []*mesospb.OfferID{offer.GetId()}, command("t1", offer.GetAgentId(), "cpus:1"))
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/scheduler", strings.NewReader(string(mustJSON(t, acc))))
	req.Header.Set("Content-Type", api.ContentTypeJSON)
	req.Header.Set(streamIDHeader, sid)
	ares, err := http.DefaultClient.Do(req)
	if err != nil || ares.StatusCode != 202 {
		t.Fatalf("accept: %v %v", ares, err)
	}
	for p := range got {
		if p == "/internal/v1/run_tasks" {
			break
		}
	}

	// kill -9 of the agent, as gossip sees it.
	ag.Close()
	up := s.nextOf(t, schedulerpb.Event_UPDATE).GetUpdate().GetStatus()
	if up.GetState() != mesospb.TaskState_TASK_LOST || up.GetReason() != mesospb.TaskStatus_REASON_AGENT_REMOVED || len(up.GetUuid()) != 16 {
		t.Fatalf("update = %v", up)
	}
}

func fwID(s string) cairnids.FrameworkID { return cairnids.FrameworkID(s) }
