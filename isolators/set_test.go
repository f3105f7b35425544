package isolators_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/isolators"
)

func TestParse(t *testing.T) {
	set, err := isolators.Parse(" cgroups/mem, cgroups/cpu ,cgroups/pids", isolators.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := set.Names(), []string{"cgroups/mem", "cgroups/cpu", "cgroups/pids"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v (flag order)", got, want)
	}
	l, err := set.Spec(isolators.Request{CPUs: 0.5, MemMB: 64})
	if err != nil {
		t.Fatal(err)
	}
	want := isolators.Limits{
		CPUShares: 512, CPUQuotaUs: 50000, CPUPeriodUs: 100000,
		MemoryBytes: 64 << 20, MemorySwapBytes: 64 << 20,
		PidsMax: 4096,
	}
	if l != want {
		t.Errorf("Spec = %+v, want %+v", l, want)
	}

	set, err = isolators.Parse("cgroups/cpu,cgroups/pids", isolators.Config{EnableCFS: false, PidsMax: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := set.Spec(isolators.Request{CPUs: 1}); l != (isolators.Limits{CPUShares: 1024, PidsMax: 10}) {
		t.Errorf("config not honoured: %+v", l)
	}

	if set, err := isolators.Parse("  ", isolators.DefaultConfig()); err != nil || len(set) != 0 {
		t.Errorf("Parse(blank) = %v, %v; want empty set", set, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ flag, want string }{
		{"cgroups/cpu,posix/disk", `unknown isolator "posix/disk" (known: cgroups/cpu, cgroups/mem, cgroups/pids)`},
		{"cgroups/cpu,,cgroups/mem", "empty isolator name"},
		{"cgroups/cpu,", "empty isolator name"},
		{"cgroups/mem,cgroups/mem", `isolator "cgroups/mem" given twice`},
	} {
		_, err := isolators.Parse(tt.flag, isolators.DefaultConfig())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.flag, err, tt.want)
		}
	}
}

func TestSetSpecNamesFailingIsolator(t *testing.T) {
	set, _ := isolators.Parse("cgroups/cpu,cgroups/mem", isolators.DefaultConfig())
	_, err := set.Spec(isolators.Request{CPUs: 1})
	if err == nil || !strings.HasPrefix(err.Error(), "cgroups/mem: ") {
		t.Errorf("Spec without mem: error = %v, want it to name cgroups/mem", err)
	}
}

// hooked records the order hooks ran in and fails where told to.
type hooked struct {
	name  string
	netns string
	fail  bool
	log   *[]string
}

func (h hooked) Name() string                                    { return h.name }
func (h hooked) Spec(isolators.Request, *isolators.Limits) error { return nil }
func (h hooked) Prepare(_ context.Context, _ isolators.Container, _ isolators.Request) (isolators.Prepared, error) {
	*h.log = append(*h.log, "prepare "+h.name)
	return isolators.Prepared{NetNS: h.netns}, nil
}
func (h hooked) Cleanup(context.Context, isolators.Container) error {
	*h.log = append(*h.log, "cleanup "+h.name)
	if h.fail {
		return errors.New("boom")
	}
	return nil
}

func TestSetHooks(t *testing.T) {
	var log []string
	set := isolators.Set{
		hooked{name: "t/a", log: &log},
		isolators.Mem{},
		hooked{name: "t/b", netns: "/run/netns/x", fail: true, log: &log},
		hooked{name: "t/c", fail: true, log: &log},
	}
	ctx := context.Background()
	p, err := set.Prepare(ctx, isolators.Container{ID: "c1"}, isolators.Request{})
	if err != nil || p.NetNS != "/run/netns/x" {
		t.Errorf("Prepare = %+v, %v", p, err)
	}
	err = set.Cleanup(ctx, isolators.Container{ID: "c1"})
	if err == nil || !strings.Contains(err.Error(), "t/b: cleanup: boom") || !strings.Contains(err.Error(), "t/c: cleanup: boom") {
		t.Errorf("Cleanup error = %v, want both failures", err)
	}
	want := []string{"prepare t/a", "prepare t/b", "prepare t/c", "cleanup t/c", "cleanup t/b", "cleanup t/a"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("hook order = %v, want %v", log, want)
	}

	conflict := isolators.Set{hooked{name: "t/a", netns: "/x", log: &log}, hooked{name: "t/b", netns: "/y", log: &log}}
	if _, err := conflict.Prepare(ctx, isolators.Container{ID: "c1"}, isolators.Request{}); err == nil {
		t.Error("Prepare with two different network namespaces succeeded")
	}
}
