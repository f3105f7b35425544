package master

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/gossip"
)

func TestRestarted(t *testing.T) {
	now := t0.Add(time.Hour)
	fresh := now.Add(-time.Second) // admitted within the grace
	old := now.Add(-time.Minute)
	for _, tc := range []struct {
		name       string
		registered time.Time
		idGossiped bool
		av         ids.AgentID
		err        error
		readmit    bool
		wait       time.Duration
	}{
		{"same session", old, true, "a1", nil, false, 0},
		{"undecodable record", old, true, "", errors.New("bad"), false, 0},
		// The agent forgot the id it had already published: restarted,
		// however recently it was admitted.
		{"restart after id seen", fresh, true, "", nil, true, 0},
		{"restart long after admission", old, false, "", nil, true, 0},
		{"another id", fresh, false, "a9", nil, true, 0},
		// No record has carried the id yet: registered may be in flight.
		{"registered in flight", fresh, false, "", nil, false, readmitGrace - time.Second},
	} {
		a := &agent{id: "a1", registered: tc.registered, idGossiped: tc.idGossiped}
		readmit, wait := restarted(a, gossip.Availability{Role: gossip.RoleAgent, AgentID: tc.av}, tc.err, now)
		if readmit != tc.readmit || wait != tc.wait {
			t.Errorf("%s: restarted = %v, %v; want %v, %v", tc.name, readmit, wait, tc.readmit, tc.wait)
		}
	}
}

// An agent restarted right after its admission is fetched again at once
// once its record has carried its id, rather than after the grace.
func TestGossipReadmitsRestartedAgentPromptly(t *testing.T) {
	m, _ := testMaster(t)
	member := func(id ids.AgentID) gossip.Member {
		meta, err := gossip.MarshalAvailability(gossip.Availability{Role: gossip.RoleAgent, AgentID: id, HTTPPort: 5051})
		if err != nil {
			t.Fatal(err)
		}
		return gossip.Member{Name: "agent@10.0.0.2:5051", Addr: netip.MustParseAddrPort("10.0.0.2:5056"), Meta: meta}
	}
	addr := netip.MustParseAddrPort("10.0.0.2:5051")
	var aid ids.AgentID
	var fetching, gossiped bool
	m.do(t.Context(), func() {
		// admit() names the node "agent@a1"; use the gossip name instead.
		aid = admit(t, m.core, "a1", "cpus:1;mem:128")
		m.core.agents[aid].nodeName = "agent@10.0.0.2:5051"
		m.core.agents[aid].registered = time.Now()
		m.handleGossip(gossip.Event{Kind: gossip.Update, Member: member("")}, addr)
		fetching = m.fetching["agent@10.0.0.2:5051"]
		m.handleGossip(gossip.Event{Kind: gossip.Update, Member: member(aid)}, addr)
		gossiped = m.core.agents[aid].idGossiped
	})
	if fetching {
		t.Fatal("an agent without its id within the grace was fetched again")
	}
	if !gossiped {
		t.Fatal("a record with the agent's id not noted")
	}
	m.do(t.Context(), func() {
		m.handleGossip(gossip.Event{Kind: gossip.Update, Member: member("")}, addr)
		fetching = m.fetching["agent@10.0.0.2:5051"]
	})
	if !fetching {
		t.Error("restarted agent not fetched again at once")
	}
}
