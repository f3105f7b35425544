package netbw

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cilium/ebpf"
)

// A framework's class removed while its task still sends: the entries go
// first, so its packets land in the default class (whose ceil is the
// link), never in a class that is gone; the flow lives on.
func TestRemoveFrameworkFallsBackToDefault(t *testing.T) {
	r := newRig(t, CeilRate, 100)
	a, _, cg := r.framework(t, "fw-a", 20, "5001", 1)
	if err := r.iso.AddCgroup(cg.id, "fw-unknown"); err == nil {
		t.Error("AddCgroup to a framework without a class: no error")
	}
	if err := r.iso.SetFramework("fw-zero", 0); err == nil {
		t.Error("SetFramework with rate 0: no error")
	}
	time.Sleep(time.Second)
	if got := average([]*sink{a}, 2*time.Second)[0]; !within(got, goodput(20), 0.05) {
		t.Fatalf("in its class: %.2f Mbit/s, want %.2f", got, goodput(20))
	}
	if err := r.iso.RemoveFramework("fw-a"); err != nil {
		t.Fatal(err)
	}
	if err := r.iso.RemoveFramework("fw-a"); err != nil {
		t.Errorf("second RemoveFramework: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	got := average([]*sink{a}, 2*time.Second)[0]
	t.Logf("after RemoveFramework: %.2f Mbit/s (default class, ceil = link)", got)
	if !within(got, goodput(100), 0.05) {
		t.Errorf("after RemoveFramework: %.2f Mbit/s, want the default class's %.2f", got, goodput(100))
	}
	st := stats(t, r.iso)
	if len(st) != 1 || st[0].Framework != "" || st[0].Bytes < 10e6 {
		t.Errorf("stats after RemoveFramework = %+v, want only the default class, carrying the flow", st)
	}
	if rec, _ := r.iso.Recovered(); len(rec) != 0 {
		t.Errorf("frameworks after RemoveFramework = %v, want none", rec)
	}

	// And back: a cgroup re-added is shaped again; RemoveCgroup frees it.
	if err := r.iso.SetFramework("fw-a", 20); err != nil {
		t.Fatal(err)
	}
	if err := r.iso.AddCgroup(cg.id, "fw-a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := average([]*sink{a}, 2*time.Second)[0]; !within(got, goodput(20), 0.05) {
		t.Errorf("re-added: %.2f Mbit/s, want %.2f", got, goodput(20))
	}
	if err := r.iso.RemoveCgroup(cg.id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := average([]*sink{a}, 2*time.Second)[0]; !within(got, goodput(100), 0.05) {
		t.Errorf("after RemoveCgroup: %.2f Mbit/s, want the default class's %.2f", got, goodput(100))
	}
}

// An agent that stops (Release) leaves its tree shaping; the next one
// adopts it with the flows still running: no drop, same rate, same
// bookkeeping. Leftovers nobody owns (a class without an owner, an owner
// without a class, as a crash between two steps leaves) are removed.
func TestRestartAdoptsTree(t *testing.T) {
	r := newRig(t, CeilRate, 100)
	a, _, cg := r.framework(t, "fw-a", 20, "5001", 1)
	time.Sleep(time.Second)
	before := average([]*sink{a}, 2*time.Second)[0]
	if err := r.iso.Release(); err != nil {
		t.Fatal(err)
	}
	// Crash leftovers: a class nobody owns.
	h, err := handle(netnsPath(r.agent))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := putClass(h, r.iso.link, 99, frameworkParams(1e6, 100e6, CeilRate)); err != nil {
		t.Fatal(err)
	}
	alone := average([]*sink{a}, 2*time.Second)[0]

	iso := r.open(t, CeilRate, 100)
	if err := iso.cls.SetFramework(0x0ca10042, "fw-ghost"); err != nil {
		t.Fatal(err)
	}
	// A second adoption sees the ghost owner too and removes it.
	if err := iso.Release(); err != nil {
		t.Fatal(err)
	}
	iso = r.open(t, CeilRate, 100)
	rec, err := iso.Recovered()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || rec["fw-a"].RateMbps != 20 || !slices.Equal(rec["fw-a"].Cgroups, []uint64{cg.id}) {
		t.Errorf("recovered %+v, want fw-a at 20 Mbit/s with cgroup %d", rec, cg.id)
	}
	after := average([]*sink{a}, 2*time.Second)[0]
	t.Logf("goodput before %.2f, with no agent %.2f, adopted %.2f Mbit/s (want %.2f)", before, alone, after, goodput(20))
	for _, g := range []float64{before, alone, after} {
		if !within(g, goodput(20), 0.05) {
			t.Errorf("goodput %.2f Mbit/s, want %.2f ± 5 %% throughout", g, goodput(20))
		}
	}
	st := stats(t, iso)
	for _, c := range st {
		if c.Drops != 0 {
			t.Errorf("class %x dropped %d packets", c.ClassID, c.Drops)
		}
	}
	kernel, err := classes(iso.h, iso.link)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kernel[99]; ok {
		t.Error("class ca1:99 without an owner survived adoption")
	}
	if fws, _ := iso.cls.Frameworks(); len(fws) != 1 {
		t.Errorf("owners after adoption = %v, want fw-a's only", fws)
	}

	// Reconcile to what the agent recovered: a new rate, in place.
	if err := iso.Reconcile(map[ids.FrameworkID]Share{"fw-a": {RateMbps: 30, Cgroups: []uint64{cg.id}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := average([]*sink{a}, 2*time.Second)[0]; !within(got, goodput(30), 0.05) {
		t.Errorf("reconciled to 30 Mbit/s: %.2f, want %.2f", got, goodput(30))
	}
	if err := iso.Reconcile(nil); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, iso); len(st) != 1 {
		t.Errorf("reconciled to nothing: classes %+v, want the default only", st)
	}
}

// Close takes the tree and the pins away; the interface is as before.
func TestCloseRemovesEverything(t *testing.T) {
	r := newRig(t, CeilLink, 100)
	r.framework(t, "fw-a", 10, "5001", 1)
	if err := r.iso.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.iso.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.iso.SetFramework("fw-b", 1); err == nil {
		t.Error("SetFramework after Close: no error")
	}
	if out := ip(t, r.agent, "link", "show", r.dev); strings.Contains(out, "qdisc htb") {
		t.Errorf("after Close: %s", out)
	}
	if _, err := os.Stat(r.pins); !os.IsNotExist(err) {
		t.Errorf("pin dir after Close: %v, want it gone", err)
	}
}

// What New refuses, and says why.
func TestNewRefuses(t *testing.T) {
	requireKernel(t)
	agent, other := newNetns(t), newNetns(t)
	dev := pair(t, agent, other)
	pins := filepath.Join(bpffs(t), "netbw")
	for _, c := range []struct {
		name, want string
		cfg        Config
		setup      func()
	}{
		{"no default route", "no default route", Config{LinkMbps: 10}, nil},
		{"no such interface", "cnbwnone", Config{Interface: "cnbwnone", LinkMbps: 10}, nil},
		{"no link speed", "LinkMbps", Config{Interface: dev}, nil},
		{"foreign qdisc", "tbf", Config{Interface: dev, LinkMbps: 10}, func() {
			tc(t, agent, "qdisc", "add", "dev", dev, "root", "handle", "7:", "tbf", "rate", "1mbit", "burst", "32kbit", "latency", "400ms")
		}},
	} {
		if c.setup != nil {
			c.setup()
		}
		c.cfg.Netns, c.cfg.PinDir = netnsPath(agent), pins
		iso, err := New(c.cfg, nil)
		if err == nil {
			iso.Close()
			t.Errorf("%s: New worked", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
	if out := tcOut(t, agent, "qdisc", "show", "dev", dev); !strings.Contains(out, "tbf 7:") {
		t.Errorf("the foreign qdisc was touched: %s", out)
	}
	if _, err := os.Stat(pins); !os.IsNotExist(err) {
		t.Errorf("refused New left its pin dir: %v", err)
	}
}

func stats(t *testing.T, iso *Isolator) []ClassStats {
	t.Helper()
	st, err := iso.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tc(t testing.TB, ns string, args ...string) { t.Helper(); tcOut(t, ns, args...) }

func tcOut(t testing.TB, ns string, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns, "tc"}, args...)...)
}

// Pins of an older layout cannot be adopted: New rebuilds instead of
// failing, and the new maps work.
func TestIncompatiblePinsRebuild(t *testing.T) {
	requireKernel(t)
	agent, other := newNetns(t), newNetns(t)
	dev := pair(t, agent, other)
	pins := filepath.Join(bpffs(t), "netbw")
	if err := os.MkdirAll(pins, 0o700); err != nil {
		t.Fatal(err)
	}
	old, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.Pin(filepath.Join(pins, "classes")); err != nil {
		t.Fatal(err)
	}
	iso, err := New(Config{Interface: dev, LinkMbps: 100, Netns: netnsPath(agent), PinDir: pins}, nil)
	if err != nil {
		t.Fatalf("New over incompatible pins: %v", err)
	}
	defer iso.Close()
	if err := iso.SetFramework("fw-a", 10); err != nil {
		t.Fatal(err)
	}
	if err := iso.AddCgroup(7, "fw-a"); err != nil {
		t.Fatal(err)
	}
}
