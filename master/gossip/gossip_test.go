package gossip

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestThreeMembersJoinThroughOneSeed(t *testing.T) {
	nodes := startCluster(t, "join", 3)

	for _, nd := range nodes {
		ms := nd.Members()
		for _, peer := range nodes {
			m, ok := memberNamed(ms, peer.Name())
			if !ok {
				t.Fatalf("%s does not list %s", nd.Name(), peer.Name())
			}
			if m.Addr != peer.LocalAddr() {
				t.Errorf("%s lists %s at %s, want %s", nd.Name(), m.Name, m.Addr, peer.LocalAddr())
			}
			if want := "meta-" + peer.Name(); string(m.Meta) != want {
				t.Errorf("%s lists %s with meta %q, want %q", nd.Name(), m.Name, m.Meta, want)
			}
		}
	}
	// The seed hears of both joiners, each with its metadata.
	for _, peer := range nodes[1:] {
		ev := nodes[0].rec.await(t, Join, peer.Name())
		if string(ev.Member.Meta) != "meta-"+peer.Name() || ev.Member.State != Alive {
			t.Errorf("join event %+v", ev)
		}
	}
}

func TestEphemeralPortServesUDPAndTCP(t *testing.T) {
	nd := startNode(t, "ports", nil)
	addr := nd.LocalAddr()
	if addr.Port() == 0 || !addr.Addr().IsLoopback() {
		t.Fatalf("local addr %s", addr)
	}
	// Both protocols are bound on the one advertised port.
	if ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr)); err == nil {
		ln.Close()
		t.Errorf("TCP port %d was free", addr.Port())
	}
	if pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr)); err == nil {
		pc.Close()
		t.Errorf("UDP port %d was free", addr.Port())
	}
}

func TestMetadataUpdatePropagates(t *testing.T) {
	nodes := startCluster(t, "meta", 3)
	changed := []byte("new availability")
	if err := nodes[2].SetMeta(changed); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes[:2] {
		eventually(t, nd.Name()+" sees the update", func() bool {
			ev, ok := nd.rec.find(Update, nodes[2].Name())
			return ok && bytes.Equal(ev.Member.Meta, changed)
		})
		m, _ := memberNamed(nd.Members(), nodes[2].Name())
		if !bytes.Equal(m.Meta, changed) || m.State != Alive {
			t.Errorf("%s lists %+v", nd.Name(), m)
		}
	}
}

func TestCloseWithoutLeaveIsAFailure(t *testing.T) {
	nodes := startCluster(t, "crash", 3)
	victim := nodes[2]
	killed := time.Now()
	if err := victim.Close(); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes[:2] {
		ev := nd.rec.await(t, Fail, victim.Name())
		_, at, _ := nd.rec.findAt(Fail, victim.Name())
		t.Logf("%s reported the failure %s after the kill", nd.Name(), at.Sub(killed).Round(time.Millisecond))
		if ev.Member.State != Dead || ev.Member.Addr != victim.LocalAddr() {
			t.Errorf("%s got %+v", nd.Name(), ev)
		}
		if _, ok := nd.rec.find(Leave, victim.Name()); ok {
			t.Errorf("%s reported a crash as a graceful leave", nd.Name())
		}
		m, ok := memberNamed(nd.Members(), victim.Name())
		if !ok || m.State != Dead {
			t.Errorf("%s lists the dead member as %+v (found %v)", nd.Name(), m, ok)
		}
	}
}

func TestGracefulLeaveIsNotAFailure(t *testing.T) {
	nodes := startCluster(t, "leave", 3)
	leaver := nodes[2]
	if err := leaver.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes[:2] {
		ev := nd.rec.await(t, Leave, leaver.Name())
		if ev.Member.State != Left {
			t.Errorf("%s got %+v", nd.Name(), ev)
		}
	}
	// Closing after leaving must not turn the leave into a failure.
	if err := leaver.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // longer than a failure takes to be declared
	for _, nd := range nodes[:2] {
		if _, ok := nd.rec.find(Fail, leaver.Name()); ok {
			t.Errorf("%s reported a graceful leave as a failure", nd.Name())
		}
		if m, _ := memberNamed(nd.Members(), leaver.Name()); m.State != Left {
			t.Errorf("%s lists %+v", nd.Name(), m)
		}
	}
}

func TestJoinRejectsBadSeeds(t *testing.T) {
	nd := startNode(t, "lonely", nil)

	// A port nobody listens on: take one from the kernel and give it back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name  string
		seeds []string
		want  string
	}{
		{"none", nil, "no seeds"},
		{"no port", []string{"127.0.0.1"}, `"127.0.0.1" is not host:port`},
		{"no host", []string{":7946"}, `":7946" has no host`},
		{"port zero", []string{"127.0.0.1:0"}, "no valid port"},
		{"port not a number", []string{"127.0.0.1:gossip"}, "no valid port"},
		{"nobody listening", []string{refused}, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := nd.Join(tc.seeds)
			if err == nil || n != 0 {
				t.Fatalf("Join(%q) = %d, %v; want an error", tc.seeds, n, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{BindAddr: "127.0.0.1"}, "name is empty"},
		{"meta too big", Config{Name: "x", Meta: make([]byte, MetaMaxSize+1)}, "limit 511"},
		{"bad bind addr", Config{Name: "x", BindAddr: "localhost"}, "bind address"},
		{"advertise port on ephemeral", Config{Name: "x", AdvertisePort: 7946}, "fixed bind port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(tc.cfg)
			if err == nil {
				g.Close()
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestCallsAfterClose(t *testing.T) {
	nd := startNode(t, "closed", nil)
	if err := nd.SetMeta(make([]byte, MetaMaxSize+1)); err == nil {
		t.Error("SetMeta accepted oversized metadata")
	}
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := nd.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := nd.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Close: %v", err)
	}
	if err := nd.SetMeta(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SetMeta after Close: %v", err)
	}
	if _, err := nd.Join([]string{"127.0.0.1:7946"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close: %v", err)
	}
}

// The callback runs outside memberlist's lock, so it may read the pool.
func TestEventsCallbackMayCallMembers(t *testing.T) {
	var self atomic.Pointer[Gossip]
	var sawPeer atomic.Bool
	g, err := New(Config{
		Name:     "reader",
		BindAddr: "127.0.0.1",
		Events: func(ev Event) {
			if g := self.Load(); g != nil && ev.Kind == Join && ev.Member.Name == "peer" {
				_, ok := memberNamed(g.Members(), "peer")
				sawPeer.Store(ok)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	self.Store(g)
	t.Cleanup(func() { g.Close() })

	peer := startNode(t, "peer", nil)
	if _, err := peer.Join([]string{g.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the callback to see the peer in Members", sawPeer.Load)
}
