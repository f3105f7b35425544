package agent

import (
	"errors"
	"testing"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/netdiag"
)

type fixedShaping map[ids.ContainerID]usage.Shaping

func (f fixedShaping) Shaping([]usage.Target) (map[ids.ContainerID]usage.Shaping, error) {
	return f, nil
}

func est(cg uint64, rtt uint32) netdiag.Socket {
	return netdiag.Socket{State: netdiag.StateEstablished, CgroupID: cg, RTT: rtt, HasInfo: true}
}

// TestNetSockets: host-network containers get their cgroup's established
// sockets (none is zero, measured), a container with its own namespace
// all of its namespace's sockets and eth0's counters, a container without
// a cgroup id nothing; bandwidth isolation's shaping is kept.
func TestNetSockets(t *testing.T) {
	var hostStates, nsStates uint32
	var nsPath string
	n := &netSockets{
		inner: fixedShaping{"own": {TxRateLimit: 5}},
		log:   testLogger(),
		netns: func() map[ids.ContainerID]string { return map[ids.ContainerID]string{"own": "/run/netns/x"} },
		dump: func(states uint32) ([]netdiag.Socket, error) {
			hostStates = states
			return []netdiag.Socket{est(7, 300), est(7, 100), est(1, 5), est(7, 200), {State: netdiag.StateEstablished, CgroupID: 7}}, nil
		},
		inNetns: func(path string, states uint32) (netdiag.Netns, error) {
			nsPath, nsStates = path, states
			return netdiag.Netns{
				Sockets: []netdiag.Socket{est(9, 40), {State: netdiag.StateTimeWait}, {State: netdiag.StateTimeWait}},
				Devices: []netdiag.Device{{Name: "lo", RxErrors: 99}, {Name: "eth0", RxErrors: 1, RxDropped: 2, TxErrors: 3, TxDropped: 4}},
			}, nil
		},
	}
	targets := []usage.Target{{Container: "busy", CgroupID: 7}, {Container: "idle", CgroupID: 8},
		{Container: "own", CgroupID: 9}, {Container: "unknown"}}
	got, err := n.Shaping(targets)
	if err != nil {
		t.Fatal(err)
	}
	if hostStates != 1<<netdiag.StateEstablished || nsStates != 1<<netdiag.StateEstablished|1<<netdiag.StateTimeWait || nsPath != "/run/netns/x" {
		t.Errorf("asked the host for states %#x, the namespace %s for %#x", hostStates, nsPath, nsStates)
	}
	busy := got["busy"]
	if busy.TCP == nil || busy.TCP.Active != 4 || busy.TCP.RTT != [4]float64{200, 300, 300, 300} || busy.TCP.HasTimeWait || busy.Device != nil {
		t.Errorf("busy: %+v %+v", busy, busy.TCP)
	}
	if idle := got["idle"]; idle.TCP == nil || idle.TCP.Active != 0 || idle.TCP.HasRTT {
		t.Errorf("idle: %+v", idle)
	}
	own := got["own"]
	if own.TxRateLimit != 5 || own.TCP == nil || own.TCP.Active != 1 || own.TCP.TimeWait != 2 || !own.TCP.HasTimeWait ||
		own.TCP.RTT[0] != 40 || own.Device == nil || *own.Device != (usage.Device{RxErrors: 1, RxDropped: 2, TxErrors: 3, TxDropped: 4}) {
		t.Errorf("own: %+v %+v %+v", own, own.TCP, own.Device)
	}
	if _, ok := got["unknown"]; ok {
		t.Errorf("a container without cgroup id: %+v", got["unknown"])
	}
}

// TestNetSocketsDegrade: a kernel whose dumps carry no cgroup ids gives
// host-network containers no figures (not zeros); a failed host dump is
// an error, and a namespace that cannot be read leaves its container out.
func TestNetSocketsDegrade(t *testing.T) {
	hostSocks := []netdiag.Socket{{State: netdiag.StateEstablished}}
	var hostErr error
	n := &netSockets{
		log:   testLogger(),
		netns: func() map[ids.ContainerID]string { return map[ids.ContainerID]string{"gone": "/run/netns/y"} },
		dump:  func(uint32) ([]netdiag.Socket, error) { return hostSocks, hostErr },
		inNetns: func(string, uint32) (netdiag.Netns, error) {
			return netdiag.Netns{}, errors.New("no such file")
		},
	}
	targets := []usage.Target{{Container: "host", CgroupID: 7}, {Container: "gone", CgroupID: 8}}
	for i := range 2 {
		got, err := n.Shaping(targets)
		if err != nil || len(got) != 0 {
			t.Errorf("round %d without cgroup ids: %v, %v", i, got, err)
		}
	}
	if !n.warned {
		t.Error("no warning for a kernel without cgroup ids")
	}
	hostErr = errors.New("EPERM")
	if got, err := n.Shaping(targets); err == nil || len(got) != 0 {
		t.Errorf("failed dump: %v, %v", got, err)
	}
}
