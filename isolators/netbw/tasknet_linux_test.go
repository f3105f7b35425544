package netbw

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// openNetwork makes a task network on a uniquely named bridge in the
// namespace agent.
func openNetwork(t *testing.T, agent string, egress *Isolator) *Network {
	t.Helper()
	n, err := OpenNetwork(NetConfig{Bridge: kerneltest.Name("cnbr"), Netns: netnsPath(agent), Egress: egress})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Remove(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func attach(t *testing.T, n *Network, limitMbps float64) TaskNet {
	t.Helper()
	id := ids.ContainerID(kerneltest.Name("cnbwtask"))
	tn, err := n.Attach(id, limitMbps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Detach(id) })
	return tn
}

// Acceptance 4: a task in its own namespace receives at most its limit (30
// Mbit/s, within ±5 % of the goodput that allows): the host end of its veth
// is shaped. So is what it sends, on its own end. Changing the limit takes
// effect on running flows.
func TestTaskNetLimitsBothWays(t *testing.T) {
	requireKernel(t)
	agent := newNetns(t)
	n := openNetwork(t, agent, nil)
	tn := attach(t, n, 30)
	task := filepath.Base(tn.Netns)
	cg := newCgroup(t)

	in := newSink(t, task, tn.Addr.Addr().String()+":5001")
	sin := send(t, cg, agent, tn.Addr.Addr().String()+":5001", 1)
	measure := func(s *sink, what string, mbps float64) {
		t.Helper()
		time.Sleep(time.Second)
		got := average([]*sink{s}, 3*time.Second)[0]
		t.Logf("%s at %v Mbit/s: goodput %.2f Mbit/s, want %.2f (%+.1f %%)", what, mbps, got, goodput(mbps), 100*(got/goodput(mbps)-1))
		if !within(got, goodput(mbps), 0.05) {
			t.Errorf("%s at %v Mbit/s: goodput %.2f Mbit/s, not within 5 %% of %.2f", what, mbps, got, goodput(mbps))
		}
	}
	measure(in, "ingress", 30)

	// Egress, alone on the veth (the ingress flow's ACKs would share the
	// task's class with it).
	sin.paused.Store(true)
	out := newSink(t, agent, tn.Gateway.String()+":5002")
	sout := send(t, cg, task, tn.Gateway.String()+":5002", 1)
	measure(out, "egress", 30)
	sout.paused.Store(true)

	if err := n.SetLimit(tn.ID, 10); err != nil {
		t.Fatal(err)
	}
	sin.paused.Store(false)
	measure(in, "ingress after SetLimit", 10)

	rx, tx, err := n.Stats(tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("veth classes: rx %+v, tx %+v", rx, tx)
	if rx.Rate != 10e6 || tx.Rate != 10e6 || rx.Bytes < 10e6 || tx.Bytes < 10e6 {
		t.Errorf("veth stats rx %+v tx %+v: want rates of 10 Mbit/s and the flows' bytes", rx, tx)
	}
	again, err := n.Attach(tn.ID, 10)
	if err != nil || again.Addr != tn.Addr {
		t.Errorf("second Attach = %+v, %v; want the same address %s", again, err, tn.Addr)
	}
	other := attach(t, n, 5)
	if other.Addr == tn.Addr {
		t.Errorf("two tasks share address %s", tn.Addr)
	}
	list, err := n.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != tn.ID || list[0].LimitMbps != 10 || list[1].ID != other.ID || list[1].LimitMbps != 5 {
		t.Errorf("List = %+v, want %s at 10 and %s at 5 Mbit/s", list, tn.ID, other.ID)
	}
	if err := n.Detach(other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other.Netns); !os.IsNotExist(err) {
		t.Errorf("netns after Detach: %v, want it gone", err)
	}
}

// A task in its own namespace whose packets the agent forwards out of the
// uplink is shaped there by its framework's class: its socket is gone by
// then (ip_rcv orphans every packet), so the tag program on its veth
// carried the class in the mark. Task limit 50, framework 20 with ceil =
// rate: the framework's 20 wins.
func TestForwardedTaskTrafficIsClassified(t *testing.T) {
	r := newRig(t, CeilRate, 100)
	ip(t, r.agent, "link", "set", "lo", "up")
	run(t, "ip", "netns", "exec", r.agent, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	ip(t, r.sinkNs, "route", "add", DefaultCIDR.String(), "via", "10.250.0.1")
	n := openNetwork(t, r.agent, r.iso)
	tn := attach(t, n, 50)
	cg := newCgroup(t)
	if err := r.iso.SetFramework("fw-a", 20); err != nil {
		t.Fatal(err)
	}
	if err := r.iso.AddCgroup(cg.id, "fw-a"); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, r.sinkNs, sinkAddr+":5001")
	send(t, cg, filepath.Base(tn.Netns), sinkAddr+":5001", 1)
	time.Sleep(time.Second)
	got := average([]*sink{s}, 3*time.Second)[0]
	t.Logf("forwarded, framework at 20 Mbit/s, task limit 50: goodput %.2f Mbit/s, want %.2f", got, goodput(20))
	if !within(got, goodput(20), 0.05) {
		t.Errorf("forwarded task traffic: goodput %.2f Mbit/s, want its framework's %.2f ± 5 %%", got, goodput(20))
	}
	r.logStats(t)
}

// An agent restart with tasks in their own namespaces: the next agent opens
// the same bridge, finds its tasks in the kernel (List) and re-attaches
// them in place; a running flow keeps its limit throughout.
func TestTaskNetSurvivesRestart(t *testing.T) {
	requireKernel(t)
	agent := newNetns(t)
	bridge := kerneltest.Name("cnbr")
	first, err := OpenNetwork(NetConfig{Bridge: bridge, Netns: netnsPath(agent)})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := first.Attach(ids.ContainerID(kerneltest.Name("cnbwtask")), 30)
	if err != nil {
		first.Remove()
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	n := openNetwork(t, agent, nil) // a new bridge name: check it is not adopted by mistake
	if l, _ := n.List(); len(l) != 0 {
		t.Errorf("another bridge lists %+v", l)
	}
	second, err := OpenNetwork(NetConfig{Bridge: bridge, Netns: netnsPath(agent)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := second.Remove(); err != nil {
			t.Error(err)
		}
	})
	cg := newCgroup(t)
	in := newSink(t, filepath.Base(tn.Netns), tn.Addr.Addr().String()+":5001")
	send(t, cg, agent, tn.Addr.Addr().String()+":5001", 1)
	list, err := second.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != tn.ID || list[0].Addr != tn.Addr || list[0].LimitMbps != 30 {
		t.Fatalf("after restart List = %+v, want %s at %s, 30 Mbit/s", list, tn.ID, tn.Addr)
	}
	again, err := second.Attach(tn.ID, 30)
	if err != nil || again.Addr != tn.Addr {
		t.Errorf("re-Attach = %+v, %v; want the same address %s", again, err, tn.Addr)
	}
	time.Sleep(time.Second)
	if got := average([]*sink{in}, 2*time.Second)[0]; !within(got, goodput(30), 0.05) {
		t.Errorf("after restart: %.2f Mbit/s, want %.2f ± 5 %%", got, goodput(30))
	}
}
