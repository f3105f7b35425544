package agent

import (
	"hash/fnv"
	"slices"
	"testing"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// TestRestartReconcilesBandwidth: an agent stops while a checkpointing
// framework's task runs; the tree is left shaping (Release). The next agent
// recovers the task and reconciles the tree to exactly it: the class of a
// framework whose tasks died with the old agent is not kept.
func TestRestartReconcilesBandwidth(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Isolation += ",network/bandwidth"
		c.Resources += ";network_bandwidth:100"
	})
	f := newFakeShaper() // the kernel: it outlives the agents
	cgroupOf := func(c ids.ContainerID) (uint64, bool, error) {
		h := fnv.New64a()
		h.Write([]byte(c))
		return h.Sum64(), true, nil
	}
	start := func() *testAgent {
		t.Helper()
		a, err := New(r.cfg, testLogger(), WithContainerizer(r.ctr), withBandwidthShaper(f, nil, cgroupOf))
		must(t, err)
		ta := runAgent(t, a, r.m)
		r.cfg.Port = int(a.Addr().Port())
		ta.register(t, "m1-S1")
		return ta
	}

	a := start()
	kept := customExecutorTask("tc", "ec", "sleep 60")
	kept.Resources = append(kept.Resources, resources.MustParse("network_bandwidth:20").ToProto("")...)
	gone := customExecutorTask("tn", "en", "sleep 60")
	gone.Resources = append(gone.Resources, resources.MustParse("network_bandwidth:30").ToProto("")...)
	a.runFor(t, checkpointing(), kept)
	a.run(t, gone)
	subscribeRunning(t, a, "fwc", "ec", "tc", 1)
	subscribeRunning(t, a, "fw1", "en", "tn", 2)
	cc := containerOf(t, r.ctr, "ec")
	eventually(t, "both classes set", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.rates["fwc"] == 20 && f.rates["fw1"] == 30
	})
	a.stop()
	if !f.released || f.closed {
		t.Fatalf("agent stopped with a container running: released %v closed %v, want the tree left shaping", f.released, f.closed)
	}

	f.mu.Lock()
	f.released = false
	f.mu.Unlock()
	b := start()
	defer b.stop()
	cg, _, _ := cgroupOf(cc)
	f.mu.Lock()
	want := f.reconcile
	f.mu.Unlock()
	if len(want) != 1 || want["fwc"].RateMbps != 20 || !slices.Equal(want["fwc"].Cgroups, []uint64{cg}) {
		t.Fatalf("reconciled to %+v, want only fwc at 20 Mbit/s with its container's cgroup %d", want, cg)
	}
}
