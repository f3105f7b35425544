package usage

import (
	"slices"

	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// TCP sums up a container's TCP sockets at one instant, as Mesos's
// port_mapping isolator reported them.
type TCP struct {
	// Active counts the sockets in ESTABLISHED.
	Active uint64
	// TimeWait counts the sockets in TIME_WAIT; known (HasTimeWait) only
	// for a container with its own network namespace: a time-wait socket
	// no longer knows its cgroup.
	TimeWait    uint64
	HasTimeWait bool
	// RTT are the 50th, 90th, 95th and 99th percentiles of the smoothed
	// round-trip times of the established sockets, in microseconds, by
	// Mesos's rank (element n*p/100 of the n sorted times, 0-based);
	// HasRTT is false when there is none.
	RTT    [4]float64
	HasRTT bool
}

// rttPercentiles are the percentiles of TCP.RTT.
var rttPercentiles = [4]int{50, 90, 95, 99}

// TCPOf summarises active established sockets whose round-trip times (µs)
// are rtts; zero times (none measured yet) are left out, as Mesos left
// them out. It sorts rtts.
func TCPOf(active uint64, rtts []uint32) TCP {
	t := TCP{Active: active}
	slices.Sort(rtts)
	for len(rtts) > 0 && rtts[0] == 0 {
		rtts = rtts[1:]
	}
	if len(rtts) == 0 {
		return t
	}
	t.HasRTT = true
	for i, p := range rttPercentiles {
		t.RTT[i] = float64(rtts[len(rtts)*p/100])
	}
	return t
}

// Device is the error and drop counters of a container's own network
// device, from the container's side (what it received is Rx). Only a
// container with its own network namespace has one.
type Device struct {
	RxErrors, RxDropped, TxErrors, TxDropped uint64
}

// netSockFigures holds the optional values of the keys netSockStatistics
// sets, in one allocation.
type netSockFigures struct {
	dev              Device
	rtt              [4]float64
	active, timeWait float64
}

// netSockStatistics sets the device and TCP keys of out (Statistics).
func (sh *Shaping) netSockStatistics(out *Statistics) {
	if sh.TCP == nil && sh.Device == nil {
		return
	}
	f := &netSockFigures{}
	if d := sh.Device; d != nil {
		f.dev = *d
		out.NetRxErrors, out.NetRxDropped = &f.dev.RxErrors, &f.dev.RxDropped
		out.NetTxErrors, out.NetTxDropped = &f.dev.TxErrors, &f.dev.TxDropped
	}
	t := sh.TCP
	if t == nil {
		return
	}
	f.rtt, f.active, f.timeWait = t.RTT, float64(t.Active), float64(t.TimeWait)
	if t.HasRTT {
		out.NetTCPRTTMicrosecsP50, out.NetTCPRTTMicrosecsP90 = &f.rtt[0], &f.rtt[1]
		out.NetTCPRTTMicrosecsP95, out.NetTCPRTTMicrosecsP99 = &f.rtt[2], &f.rtt[3]
	}
	out.NetTCPActiveConnections = &f.active
	if t.HasTimeWait {
		out.NetTCPTimeWaitConnections = &f.timeWait
	}
}

// appendNetSockJSON appends the keys netSockStatistics sets, in the order
// of Statistics' fields.
func (sh *Shaping) appendNetSockJSON(b []byte) []byte {
	if d := sh.Device; d != nil {
		b = appendUintKey(b, "net_rx_errors", d.RxErrors)
		b = appendUintKey(b, "net_rx_dropped", d.RxDropped)
		b = appendUintKey(b, "net_tx_errors", d.TxErrors)
		b = appendUintKey(b, "net_tx_dropped", d.TxDropped)
	}
	t := sh.TCP
	if t == nil {
		return b
	}
	if t.HasRTT {
		b = appendFloatKey(b, "net_tcp_rtt_microsecs_p50", t.RTT[0])
		b = appendFloatKey(b, "net_tcp_rtt_microsecs_p90", t.RTT[1])
		b = appendFloatKey(b, "net_tcp_rtt_microsecs_p95", t.RTT[2])
		b = appendFloatKey(b, "net_tcp_rtt_microsecs_p99", t.RTT[3])
	}
	b = appendFloatKey(b, "net_tcp_active_connections", float64(t.Active))
	if t.HasTimeWait {
		b = appendFloatKey(b, "net_tcp_time_wait_connections", float64(t.TimeWait))
	}
	return b
}

// netSockProto sets the device and TCP fields of a ResourceStatistics.
func (sh *Shaping) netSockProto(out *mesospb.ResourceStatistics) {
	if d := sh.Device; d != nil {
		out.NetRxErrors, out.NetRxDropped = proto.Uint64(d.RxErrors), proto.Uint64(d.RxDropped)
		out.NetTxErrors, out.NetTxDropped = proto.Uint64(d.TxErrors), proto.Uint64(d.TxDropped)
	}
	t := sh.TCP
	if t == nil {
		return
	}
	if t.HasRTT {
		out.NetTcpRttMicrosecsP50, out.NetTcpRttMicrosecsP90 = proto.Float64(t.RTT[0]), proto.Float64(t.RTT[1])
		out.NetTcpRttMicrosecsP95, out.NetTcpRttMicrosecsP99 = proto.Float64(t.RTT[2]), proto.Float64(t.RTT[3])
	}
	out.NetTcpActiveConnections = proto.Float64(float64(t.Active))
	if t.HasTimeWait {
		out.NetTcpTimeWaitConnections = proto.Float64(float64(t.TimeWait))
	}
}
