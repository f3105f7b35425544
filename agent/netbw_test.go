package agent

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
)

// fakeShaper records the calls the agent makes, in order, and keeps the
// state they describe so tests can also check where it ended.
type fakeShaper struct {
	mu        sync.Mutex
	calls     []string
	rates     map[ids.FrameworkID]float64
	cgroups   map[uint64]ids.FrameworkID
	reconcile map[ids.FrameworkID]netbw.Share
	released  bool
	closed    bool
	failSet   error
}

func newFakeShaper() *fakeShaper {
	return &fakeShaper{rates: map[ids.FrameworkID]float64{}, cgroups: map[uint64]ids.FrameworkID{}}
}

func (f *fakeShaper) log(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeShaper) SetFramework(fw ids.FrameworkID, mbps float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSet != nil {
		return f.failSet
	}
	f.log("set %s %g", fw, mbps)
	f.rates[fw] = mbps
	return nil
}

func (f *fakeShaper) RemoveFramework(fw ids.FrameworkID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("remove %s", fw)
	for cg, owner := range f.cgroups {
		if owner == fw {
			delete(f.cgroups, cg)
		}
	}
	delete(f.rates, fw)
	return nil
}

func (f *fakeShaper) AddCgroup(cg uint64, fw ids.FrameworkID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.rates[fw]; !ok {
		return fmt.Errorf("framework %s has no class", fw)
	}
	f.log("add %d %s", cg, fw)
	f.cgroups[cg] = fw
	return nil
}

func (f *fakeShaper) RemoveCgroup(cg uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("rmcg %d", cg)
	delete(f.cgroups, cg)
	return nil
}

func (f *fakeShaper) Reconcile(want map[ids.FrameworkID]netbw.Share) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("reconcile %d", len(want))
	f.reconcile = want
	clear(f.rates)
	clear(f.cgroups)
	for fw, s := range want {
		f.rates[fw] = s.RateMbps
		for _, cg := range s.Cgroups {
			f.cgroups[cg] = fw
		}
	}
	return nil
}

func (f *fakeShaper) Stats() ([]netbw.ClassStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []netbw.ClassStats{{ClassID: 0xca10002, Rate: 1e6, Ceil: 1e8}}
	for _, fw := range slices.Sorted(maps.Keys(f.rates)) {
		out = append(out, netbw.ClassStats{Framework: fw, ClassID: 0xca10010, Rate: uint64(f.rates[fw] * 1e6), Ceil: 1e8, Bytes: 1514, Packets: 1})
	}
	return out, nil
}

func (f *fakeShaper) Release() error { f.mu.Lock(); f.released = true; f.mu.Unlock(); return nil }
func (f *fakeShaper) Close() error   { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }

func (f *fakeShaper) history() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "; ")
}

func TestBandwidthRecordOrder(t *testing.T) {
	f := newFakeShaper()
	b := newBandwidth(f, nil, testLogger())
	// A request counts once its container exists; a new class comes
	// before its cgroup, a cgroup leaves before its class shrinks or goes.
	b.addTask("fw1", "c1", "t1", 20)
	must(t, b.started("fw1", "c1", 101))
	b.addTask("fw1", "c2", "t2", 30)
	must(t, b.started("fw1", "c2", 102))
	b.addTask("fw1", "c2", "t3", 0) // no request: nothing changes
	b.endTask("fw1", "c1", "t1")
	// The loop's changes wait for the worker: no kernel call on the loop.
	if got := f.history(); strings.Contains(got, "rmcg") {
		t.Fatalf("endTask applied before flush: %s", got)
	}
	must(t, b.flush())
	b.endContainer("c2")
	must(t, b.flush())
	want := "set fw1 20; add 101 fw1; set fw1 50; add 102 fw1; rmcg 101; set fw1 30; rmcg 102; remove fw1"
	if got := f.history(); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	if len(f.rates) != 0 || len(f.cgroups) != 0 {
		t.Fatalf("left behind: %v %v", f.rates, f.cgroups)
	}
}

func TestBandwidthRemoveFramework(t *testing.T) {
	f := newFakeShaper()
	b := newBandwidth(f, nil, testLogger())
	b.addTask("fw1", "c1", "t1", 20)
	must(t, b.started("fw1", "c1", 101))
	b.addTask("fw2", "c2", "t2", 50)
	must(t, b.started("fw2", "c2", 102))
	b.removeFramework("fw1")
	must(t, b.flush())
	b.endTask("fw1", "c1", "t1") // its terminal update afterwards: nothing left to do
	must(t, b.flush())
	if got, want := f.history(), "set fw1 20; add 101 fw1; set fw2 50; add 102 fw2; rmcg 101; remove fw1"; got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	if got := b.frameworks(); !slices.Equal(got, []ids.FrameworkID{"fw2"}) {
		t.Fatalf("frameworks %v", got)
	}
}

func TestBandwidthFailedSetIsRetried(t *testing.T) {
	f := newFakeShaper()
	b := newBandwidth(f, nil, testLogger())
	f.failSet = errors.New("netlink: no buffer space")
	b.addTask("fw1", "c1", "t1", 20)
	if err := b.started("fw1", "c1", 101); err == nil {
		t.Fatal("a failed SetFramework was not reported")
	}
	if f.history() != "" {
		t.Fatalf("a cgroup was added without its class: %s", f.history())
	}
	f.failSet = nil
	b.addTask("fw1", "c1", "t2", 5) // the next change applies the whole share
	must(t, b.flush())
	if got, want := f.history(), "set fw1 25; add 101 fw1"; got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
}

func TestBandwidthReconcile(t *testing.T) {
	f := newFakeShaper()
	b := newBandwidth(f, nil, testLogger())
	b.restore("fw1", "c1", 101, "t1", 20)
	b.restore("fw1", "c2", 102, "t2", 30)
	b.restore("fw2", "c3", 103, "t3", 0) // runs, requests nothing
	must(t, b.reconcile())
	s := f.reconcile["fw1"]
	if len(f.reconcile) != 1 || s.RateMbps != 50 || !slices.Equal(s.Cgroups, []uint64{101, 102}) {
		t.Fatalf("reconciled to %+v", f.reconcile)
	}
	// After recovery the record goes on from what it reconciled.
	b.endTask("fw1", "c1", "t1")
	must(t, b.flush())
	if got, want := f.history(), "reconcile 1; rmcg 101; set fw1 30"; got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
}

func TestSplitIsolation(t *testing.T) {
	for _, c := range []struct {
		in, rest string
		on       bool
	}{
		{"cgroups/cpu,cgroups/mem", "cgroups/cpu,cgroups/mem", false},
		{"cgroups/cpu,network/bandwidth,cgroups/mem", "cgroups/cpu,cgroups/mem", true},
		{" network/bandwidth ", "", true},
	} {
		rest, on := splitIsolation(c.in)
		if rest != c.rest || on != c.on {
			t.Errorf("splitIsolation(%q) = %q, %v; want %q, %v", c.in, rest, on, c.rest, c.on)
		}
	}
}

func TestDetectedBandwidth(t *testing.T) {
	host := hostFacts{CPUs: 2, MemMB: 4096, DiskMB: 20000, NetMbps: 1000}
	r, err := totalResources("", host)
	must(t, err)
	if got := r.Scalar("network_bandwidth"); got != 1000 {
		t.Fatalf("detected network_bandwidth %g, want 1000", got)
	}
	r, err = totalResources("network_bandwidth:300", host)
	must(t, err)
	if got := r.Scalar("network_bandwidth"); got != 300 {
		t.Fatalf("--resources network_bandwidth %g, want 300", got)
	}
	host.NetMbps = 0
	r, err = totalResources("", host)
	must(t, err)
	if got := r.Scalar("network_bandwidth"); got != 0 {
		t.Fatalf("network_bandwidth %g without detection", got)
	}
	if !resourcesNamed("cpus:1;network_bandwidth:5", "network_bandwidth") || resourcesNamed("cpus:1", "network_bandwidth") {
		t.Fatal("resourcesNamed")
	}
}

func TestBandwidthFlagsValidated(t *testing.T) {
	m := newFakeMaster(t)
	for _, edit := range []func(*Config){
		func(c *Config) { c.EgressCeil = "borrow" },
		func(c *Config) { c.NetworkCIDR = "10.0.0.0/31" },
		func(c *Config) { c.NetworkCIDR = "fd00::/64" },
	} {
		cfg := testConfig(t, m)
		edit(&cfg)
		if _, err := New(cfg, testLogger(), WithContainerizer(newFakeContainerizer())); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
