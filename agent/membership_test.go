package agent

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/master/gossip"
	"google.golang.org/protobuf/proto"
)

func TestMasterAlive(t *testing.T) {
	masterMeta, _ := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleMaster, HTTPPort: 5050, Seq: 1})
	agentMeta, _ := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleAgent, HTTPPort: 5051, Seq: 1})
	tests := []struct {
		name    string
		members []gossip.Member
		want    bool
	}{
		{"none", nil, false},
		{"only agents", []gossip.Member{{Name: "agent@a", Meta: agentMeta, State: gossip.Alive}}, false},
		{"master by record", []gossip.Member{{Name: "x", Meta: masterMeta, State: gossip.Alive}}, true},
		{"master by name", []gossip.Member{{Name: "master@1.2.3.4:5050", State: gossip.Alive}}, true},
		{"dead master", []gossip.Member{{Name: "master@m", Meta: masterMeta, State: gossip.Dead}}, false},
		{"agent named master", []gossip.Member{{Name: "master-ish", Meta: agentMeta, State: gossip.Alive}}, false},
	}
	for _, tc := range tests {
		if got := masterAlive(tc.members); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRejoinAfterMasterRestart: the master's gossip member goes away and a
// new one (new port) takes its place; the agent notices and joins it.
func TestRejoinAfterMasterRestart(t *testing.T) {
	meta, _ := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleMaster, HTTPPort: 1, Seq: 1})
	newMember := func() *gossip.Gossip {
		g, err := gossip.New(gossip.Config{Name: "master@test", BindAddr: "127.0.0.1", Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		return g
	}
	var mu sync.Mutex
	current := newMember()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addr := current.LocalAddr().String()
		mu.Unlock()
		b, _ := proto.Marshal(&internalpb.GossipSeeds{Addresses: []string{addr}, MasterInfo: masterInfo()})
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, &fakeMaster{srv: srv})
	a, err := New(cfg, testLogger(), WithContainerizer(newFakeContainerizer()))
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, a, nil)
	hasAgent := func(g *gossip.Gossip) func() bool {
		return func() bool {
			for _, m := range g.Members() {
				if m.Name == a.nodeName() && m.State == gossip.Alive {
					return true
				}
			}
			return false
		}
	}
	eventually(t, "agent joined the first master", hasAgent(current))
	mu.Lock()
	current.Close()
	current = newMember()
	mu.Unlock()
	eventually(t, "agent joined the restarted master", hasAgent(current))
}
