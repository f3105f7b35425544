package netbw

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
)

// rig is an "agent" namespace whose veth to a "sink" namespace is shaped
// by an isolator: the real host's interfaces are never touched.
type rig struct {
	agent, sinkNs, dev, pins string
	iso                      *Isolator
}

const sinkAddr = "10.250.0.2"

func newRig(t *testing.T, ceil Ceil, linkMbps float64) *rig {
	t.Helper()
	requireKernel(t)
	r := &rig{agent: newNetns(t), sinkNs: newNetns(t)}
	r.dev = pair(t, r.agent, r.sinkNs)
	r.pins = filepath.Join(bpffs(t), "netbw")
	r.iso = r.open(t, ceil, linkMbps)
	return r
}

func (r *rig) config(ceil Ceil, linkMbps float64) Config {
	return Config{Interface: r.dev, LinkMbps: linkMbps, Ceil: ceil, Netns: netnsPath(r.agent), PinDir: r.pins}
}

func (r *rig) open(t *testing.T, ceil Ceil, linkMbps float64) *Isolator {
	t.Helper()
	iso, err := New(r.config(ceil, linkMbps), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := iso.Close(); err != nil {
			t.Error(err)
		}
	})
	return iso
}

// framework gives fw a class of rateMbps, a cgroup in it, a sink on port,
// and a sender of flows connections from the cgroup.
func (r *rig) framework(t *testing.T, fw ids.FrameworkID, rateMbps float64, port string, flows int) (*sink, *sender, cgroup) {
	t.Helper()
	cg := newCgroup(t)
	if err := r.iso.SetFramework(fw, rateMbps); err != nil {
		t.Fatal(err)
	}
	if err := r.iso.AddCgroup(cg.id, fw); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, r.sinkNs, sinkAddr+":"+port)
	return s, send(t, cg, r.agent, sinkAddr+":"+port, flows), cg
}

func (r *rig) logStats(t *testing.T) {
	t.Helper()
	st, err := r.iso.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st {
		t.Logf("class %x framework %q rate %d ceil %d: %d bytes %d packets %d drops %d overlimits",
			c.ClassID, c.Framework, c.Rate, c.Ceil, c.Bytes, c.Packets, c.Drops, c.Overlimits)
	}
}

// Acceptance 1: two frameworks sending TCP at full speed with 20 and 50
// Mbit/s and ceil = rate get their rates, within ±5 % of the goodput the
// rate allows after header overhead (see payloadPerFrame).
func TestHardLimits(t *testing.T) {
	r := newRig(t, CeilRate, 100)
	a, _, _ := r.framework(t, "fw-a", 20, "5001", 1)
	b, _, _ := r.framework(t, "fw-b", 50, "5002", 1)
	time.Sleep(1500 * time.Millisecond) // slow start, queues filling
	got := average([]*sink{a, b}, 5*time.Second)
	for j, rate := range []float64{20, 50} {
		want := goodput(rate)
		t.Logf("rate %v Mbit/s: goodput %.2f Mbit/s, want %.2f (%+.1f %%)", rate, got[j], want, 100*(got[j]/want-1))
		if !within(got[j], want, 0.05) {
			t.Errorf("rate %v Mbit/s: goodput %.2f Mbit/s, not within 5 %% of %.2f", rate, got[j], want)
		}
	}
	r.logStats(t)
}
