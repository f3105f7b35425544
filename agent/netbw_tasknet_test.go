package agent

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
	"google.golang.org/protobuf/proto"
)

// fakeNetwork stands in for the bridge and the tasks' namespaces.
type fakeNetwork struct {
	mu       sync.Mutex
	attached map[ids.ContainerID]float64
	calls    []string
	removed  bool
}

func (f *fakeNetwork) Attach(id ids.ContainerID, mbps float64) (netbw.TaskNet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attached[id] = mbps
	f.calls = append(f.calls, "attach")
	return netbw.TaskNet{ID: id, Netns: "/run/netns/cairn-" + string(id), Addr: netip.MustParsePrefix("10.201.0.2/16"), LimitMbps: mbps}, nil
}

func (f *fakeNetwork) Detach(id ids.ContainerID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.attached, id)
	f.calls = append(f.calls, "detach")
	return nil
}

func (f *fakeNetwork) List() ([]netbw.TaskNet, error) { return nil, nil }

func (f *fakeNetwork) Stats(id ids.ContainerID) (rx, tx netbw.ClassStats, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := uint64(f.attached[id] * 1e6)
	return netbw.ClassStats{Rate: r, Bytes: 7}, netbw.ClassStats{Rate: r, Bytes: 9}, nil
}

func (f *fakeNetwork) Close() error  { return nil }
func (f *fakeNetwork) Remove() error { f.mu.Lock(); f.removed = true; f.mu.Unlock(); return nil }

func (f *fakeNetwork) history() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, " ")
}

func TestTaskOwnNetwork(t *testing.T) {
	f, n := newFakeShaper(), &fakeNetwork{attached: map[ids.ContainerID]float64{}}
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.Isolation += ",network/bandwidth"
	cfg.Resources += ";network_bandwidth:100"
	ctr := newFakeContainerizer()
	a, err := New(cfg, testLogger(), WithContainerizer(ctr), withBandwidthShaper(f, n, func(ids.ContainerID) (uint64, bool, error) { return 7, true, nil }))
	must(t, err)
	ta := runAgent(t, a, m)
	ta.ctr = ctr
	ta.register(t, "m1-S1")

	task := commandTask("t1", "cpus:0.5;mem:64;network_bandwidth:30")
	task.Container = &mesospb.ContainerInfo{Type: mesospb.ContainerInfo_MESOS.Enum(),
		NetworkInfos: []*mesospb.NetworkInfo{{Name: proto.String("cairn")}}}
	ta.run(t, task)
	spec := ta.launched(t)
	if spec.NetNS != "/run/netns/cairn-"+string(spec.ID) {
		t.Fatalf("container joins netns %q", spec.NetNS)
	}
	if got := n.attached[spec.ID]; got != 30 {
		t.Fatalf("veth limit %g Mbit/s, want the task's 30", got)
	}
	var body string
	eventually(t, "both limits in /monitor/statistics", func() bool {
		_, body = ta.raw(t, rawCase{method: "GET", path: "/monitor/statistics"})
		return strings.Contains(body, `"net_rx_rate_limit":3750000`)
	})
	for _, want := range []string{`"net_tx_rate_limit":3750000`, `{"id":"veth_tx","backlog":0,"bytes":9`, `{"id":"veth_rx","backlog":0,"bytes":7`} {
		if !strings.Contains(body, want) {
			t.Errorf("statistics lack %s: %s", want, body)
		}
	}

	var cs []*agentpb.Response_GetContainers_Container
	eventually(t, "container in GET_CONTAINERS", func() bool {
		_, r, _ := ta.opCall(t, api.JSON, &agentpb.Call{Type: agentpb.Call_GET_CONTAINERS.Enum()})
		cs = r.GetGetContainers().GetContainers()
		return len(cs) == 1
	})
	if ni := cs[0].GetContainerStatus().GetNetworkInfos(); len(ni) != 1 || ni[0].GetIpAddresses()[0].GetIpAddress() != "10.201.0.2" {
		t.Fatalf("GET_CONTAINERS network_infos %v", ni)
	}
	ctr.exit(spec.ID, containerizer.Exit{Code: 1})
	u := m.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	infos := u.GetStatus().GetContainerStatus().GetNetworkInfos()
	if len(infos) != 1 || infos[0].GetName() != "cairn" || infos[0].GetIpAddresses()[0].GetIpAddress() != "10.201.0.2" {
		t.Fatalf("status network_infos %v, want cairn with 10.201.0.2", infos)
	}
	ta.ack(t, u)
	eventually(t, "namespace removed once the executor is released", func() bool { return n.history() == "attach detach" })
	ta.stop()
	if !n.removed {
		t.Fatal("agent stopped with no container left but kept the bridge")
	}
}

func TestTaskOwnNetworkWithoutIsolationFails(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	task := commandTask("t1", "cpus:0.5;mem:64")
	task.Container = &mesospb.ContainerInfo{Type: mesospb.ContainerInfo_MESOS.Enum(),
		NetworkInfos: []*mesospb.NetworkInfo{{Name: proto.String("cairn")}}}
	ta.run(t, task)
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	if msg := u.GetStatus().GetMessage(); !strings.Contains(msg, "network/bandwidth") {
		t.Fatalf("message %q does not say what is missing", msg)
	}
}
