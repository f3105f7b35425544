package usage

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestTCPOf(t *testing.T) {
	if got := TCPOf(0, nil); got.HasRTT || got.Active != 0 {
		t.Errorf("no sockets: %+v", got)
	}
	// 1..100 µs shuffled, and two sockets without a measure: Mesos's rank
	// n*p/100 of the 100 times.
	rtts := make([]uint32, 100, 102)
	for i := range rtts {
		rtts[i] = uint32((i*37)%100 + 1)
	}
	got := TCPOf(102, append(rtts, 0, 0))
	if !got.HasRTT || got.Active != 102 || got.RTT != [4]float64{51, 91, 96, 100} {
		t.Errorf("1..100: %+v", got)
	}
	if got := TCPOf(1, []uint32{250}); got.RTT != [4]float64{250, 250, 250, 250} {
		t.Errorf("one socket: %+v", got)
	}
	if got := TCPOf(1, []uint32{0}); got.HasRTT {
		t.Errorf("a socket without a measure: %+v", got)
	}
}

// TestNetSockKeys: the TCP and device figures appear in JSON (hand-written
// and encoding/json alike, with and without traffic classes) and in the
// protobuf message, and what was not measured is absent.
func TestNetSockKeys(t *testing.T) {
	own := Shaping{
		Classes: []TrafficClass{{ID: "veth_tx", Bytes: 3}},
		TCP:     &TCP{Active: 2, TimeWait: 5, HasTimeWait: true, RTT: [4]float64{10, 20, 30, 40.5}, HasRTT: true},
		Device:  &Device{RxErrors: 1, RxDropped: 2, TxErrors: 3, TxDropped: 4},
	}
	host := Shaping{TCP: &TCP{}}
	samples := []Sample{
		{Time: at(1), Shaped: true, Shaping: own},
		{Time: at(2), Shaped: true, Shaping: host},
		{Time: at(3), Shaped: true, Shaping: Shaping{TxRateLimit: 9}},
	}
	var objs []map[string]any
	for i, s := range samples {
		want, err := json.Marshal(s.Statistics())
		if err != nil {
			t.Fatal(err)
		}
		got := s.AppendJSON(nil)
		if string(got) != string(want) {
			t.Errorf("sample %d:\n got %s\nwant %s", i, got, want)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, m)
	}
	keys := []string{"net_rx_errors", "net_rx_dropped", "net_tx_errors", "net_tx_dropped",
		"net_tcp_rtt_microsecs_p50", "net_tcp_rtt_microsecs_p90", "net_tcp_rtt_microsecs_p95",
		"net_tcp_rtt_microsecs_p99", "net_tcp_active_connections", "net_tcp_time_wait_connections"}
	wantOwn := []float64{1, 2, 3, 4, 10, 20, 30, 40.5, 2, 5}
	for i, k := range keys {
		if objs[0][k] != wantOwn[i] {
			t.Errorf("own netns %s = %v, want %v", k, objs[0][k], wantOwn[i])
		}
		_, inHost := objs[1][k]
		if inHost != (k == "net_tcp_active_connections") {
			t.Errorf("host network: %s present %v", k, inHost)
		}
		if _, ok := objs[2][k]; ok {
			t.Errorf("unmeasured: %s present", k)
		}
	}
	p := samples[0].Proto()
	gotP := []float64{float64(p.GetNetRxErrors()), float64(p.GetNetRxDropped()), float64(p.GetNetTxErrors()),
		float64(p.GetNetTxDropped()), p.GetNetTcpRttMicrosecsP50(), p.GetNetTcpRttMicrosecsP90(),
		p.GetNetTcpRttMicrosecsP95(), p.GetNetTcpRttMicrosecsP99(), p.GetNetTcpActiveConnections(),
		p.GetNetTcpTimeWaitConnections()}
	if !slices.Equal(gotP, wantOwn) {
		t.Errorf("proto %v, want %v", gotP, wantOwn)
	}
	if p := samples[1].Proto(); p.NetRxErrors != nil || p.NetTcpRttMicrosecsP50 != nil || p.NetTcpActiveConnections == nil || p.NetTcpTimeWaitConnections != nil {
		t.Errorf("host network proto: %v", p)
	}
}
