package net_test

import (
	"encoding/json"
	"testing"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cairnhq/cairn/bpf/net"
)

func TestMain(m *testing.M) { bpftest.Main(m) }

func openMeter(t testing.TB) *net.Meter {
	t.Helper()
	bpftest.Require(t, net.Needs...)
	root, err := bpf.UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := net.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// Every segment of these flows carries a 20-byte IPv4 header and a 32-byte
// TCP header (20 + 12 of timestamps); SYN and SYN-ACK carry 8 bytes more.
const tcpIPHeader = 52

// wire returns the L3 bytes a socket's traffic took on the wire, by TCP_INFO.
func wire(payload uint64, segs uint32) float64 {
	return float64(payload + uint64(segs)*tcpIPHeader)
}

func truth(t *testing.T, line string) bpftest.TCPTruth {
	t.Helper()
	var tr bpftest.TCPTruth
	if err := json.Unmarshal([]byte(line), &tr); err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return tr
}

// Two host-network tasks in two cgroups send 100 MB and 30 MB over TCP to a
// sink in a third cgroup inside another network namespace. Each cgroup's
// bytes and segments, both ways, match what the kernel's TCP_INFO says its
// sockets moved (payload + 52 bytes of headers per segment) within ±1 %.
//
// One exception: the receiver's tcpi_bytes_received counts each payload byte
// once, while its cgroup also sees the duplicates of spurious retransmissions
// (a loaded machine fires RTOs on a veth that dropped nothing). The sink's
// received bytes are therefore held to what the senders' sockets put on the
// wire (tcpi_bytes_sent counts retransmissions), and the unique payload is a
// floor.
func TestTrafficPerCgroup(t *testing.T) {
	m := openMeter(t)
	peer := bpftest.NewNetns(t)
	v := bpftest.NewVeth(t, bpftest.Netns{}, peer)
	big, small, sinkCg := bpftest.NewCgroup(t), bpftest.NewCgroup(t), bpftest.NewCgroup(t)
	to := bpftest.Addr(v.AddrB, 5001)

	sink := bpftest.Start(t, sinkCg, "sink", "-netns", peer.Path(), "-listen", to, "-conns", "2")
	sink.Expect(t, "listening")
	before := bpftest.Counters(t, bpftest.Netns{}, v.IfA)
	a := bpftest.Start(t, big, "send", "-to", to, "-bytes", "100000000")
	b := bpftest.Start(t, small, "send", "-to", to, "-bytes", "30000000")
	ta, tb := truth(t, a.Expect(t, "truth")), truth(t, b.Expect(t, "truth"))
	var ts bpftest.TCPTruth
	for range 2 {
		x := truth(t, sink.Expect(t, "truth"))
		ts.BytesReceived += x.BytesReceived
		ts.BytesSent += x.BytesSent
		ts.SegsIn += x.SegsIn
		ts.SegsOut += x.SegsOut
	}
	for _, p := range []*bpftest.Proc{a, b, sink} {
		if st := p.Wait(t); !st.Success() {
			t.Fatalf("helper %d: %v", p.Pid(), st)
		}
	}
	after := bpftest.Counters(t, bpftest.Netns{}, v.IfA)

	all, err := m.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		id    uint64
		truth bpftest.TCPTruth
	}{{"100 MB sender", big.ID, ta}, {"30 MB sender", small.ID, tb}, {"sink", sinkCg.ID, ts}} {
		got, err := m.Read(c.id)
		if err != nil {
			t.Fatal(err)
		}
		if all[c.id] != got {
			t.Errorf("%s: ReadAll has %+v, Read %+v", c.name, all[c.id], got)
		}
		tx, rx := wire(c.truth.BytesSent, c.truth.SegsOut), wire(c.truth.BytesReceived, c.truth.SegsIn)
		if c.id == sinkCg.ID {
			if float64(got.RxBytes) < rx*0.99 {
				t.Errorf("sink: rx bytes %d, below the %.0f unique bytes TCP_INFO says it received", got.RxBytes, rx)
			}
			rx = wire(ta.BytesSent+tb.BytesSent, ta.SegsOut+tb.SegsOut)
		}
		t.Logf("%s: tx %d bytes / %d segments (TCP_INFO: %d payload, %d segments → %.0f), rx %d / %d (TCP_INFO: %d payload, %d segments → %.0f)",
			c.name, got.TxBytes, got.TxPackets, c.truth.BytesSent, c.truth.SegsOut, tx,
			got.RxBytes, got.RxPackets, c.truth.BytesReceived, c.truth.SegsIn, rx)
		for _, chk := range []struct {
			what      string
			got, want float64
		}{
			{"tx bytes", float64(got.TxBytes), tx},
			{"rx bytes", float64(got.RxBytes), rx},
			{"tx segments", float64(got.TxPackets), float64(c.truth.SegsOut)},
			{"rx segments", float64(got.RxPackets), float64(c.truth.SegsIn)},
		} {
			if !bpftest.Within(chk.got, chk.want, 0.01) {
				t.Errorf("%s: %s %.0f, TCP_INFO says %.0f: more than 1 %% apart", c.name, chk.what, chk.got, chk.want)
			}
		}
	}
	t.Logf("host veth %s moved tx %d bytes in %d packets, rx %d in %d (L2, GSO packets unsplit)", v.IfA,
		after.TxBytes-before.TxBytes, after.TxPackets-before.TxPackets, after.RxBytes-before.RxBytes, after.RxPackets-before.RxPackets)

	if err := m.Forget(big.ID); err != nil {
		t.Fatal(err)
	}
	if s, err := m.Read(big.ID); err != nil || s != (net.Stats{}) {
		t.Errorf("after Forget: %+v, %v; want zero", s, err)
	}
	if all, err := m.ReadAll(); err != nil || all[big.ID] != (net.Stats{}) {
		t.Errorf("after Forget, ReadAll has %+v, %v", all[big.ID], err)
	}
}
