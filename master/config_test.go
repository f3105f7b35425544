package master

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/master/registry"
)

// parseConfig registers the master's flags, parses args and validates.
func parseConfig(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := flags.NewSet("cairn-master", io.Discard)
	fs.SetEnv(func(string) (string, bool) { return "", false })
	c.RegisterFlags(fs)
	args = append(args, "--work_dir="+t.TempDir(), "--hostname=h")
	if _, err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return c, c.validate()
}

func TestConfigPolicyFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		arg, want string
	}{
		{"--role_sorter=fair", `--role_sorter "fair": not one of`},
		{"--framework_sorter=DRF", `--framework_sorter "DRF": not one of`},
		{"--weights=eng=0", "--weights"},
		{"--weights=eng", "--weights"},
		{"--min_allocatable_resources=cpus:0.01||mem:32", "--min_allocatable_resources"},
		{"--min_allocatable_resources=ports:[1-2]", "--min_allocatable_resources"},
	} {
		_, err := parseConfig(t, tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.arg, err, tc.want)
		}
	}
	// The sorter error names every choice, so the operator can fix it.
	_, err := parseConfig(t, "--role_sorter=fair")
	for _, name := range allocator.SorterNames() {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("sorter error %v does not list %q", err, name)
		}
	}
}

func TestConfigPolicyFlags(t *testing.T) {
	c, err := parseConfig(t, "--weights=eng=2,ops=0.5", "--role_sorter=priority",
		"--framework_sorter=random", "--min_allocatable_resources=cpus:1;mem:512|gpus:1", "--allocator_seed=42")
	if err != nil {
		t.Fatal(err)
	}
	if c.weights["eng"] != 2 || c.weights["ops"] != 0.5 || len(c.weights) != 2 {
		t.Errorf("weights = %v", c.weights)
	}
	if c.RoleSorter != allocator.SorterPriority || c.FrameworkSorter != allocator.SorterRandom {
		t.Errorf("sorters = %q, %q", c.RoleSorter, c.FrameworkSorter)
	}
	if len(c.minAllocatable) != 2 {
		t.Errorf("min allocatable = %v", c.minAllocatable)
	}
	if c.AllocatorSeed != 42 {
		t.Errorf("seed = %d", c.AllocatorSeed)
	}
	a, err := newAllocator(c)
	if err != nil {
		t.Fatal(err)
	}
	if w := a.Weights(); w["eng"] != 2 || w["ops"] != 0.5 {
		t.Errorf("allocator weights = %v", w)
	}
}

func TestConfigPolicyDefaults(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.RoleSorter != allocator.SorterDRF || c.FrameworkSorter != allocator.SorterDRF {
		t.Errorf("sorters = %q, %q", c.RoleSorter, c.FrameworkSorter)
	}
	if len(c.minAllocatable) != 2 || len(c.weights) != 0 {
		t.Errorf("min allocatable = %v, weights = %v", c.minAllocatable, c.weights)
	}
	if c.AllocatorSeed == 0 {
		t.Error("no seed derived")
	}
	// A Config built in code (no flags) gets the same policy.
	code := Config{WorkDir: t.TempDir(), Hostname: "h"}
	if err := code.validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := newAllocator(code); err != nil {
		t.Fatal(err)
	}
}

// Weights stored by UPDATE_WEIGHTS replace the --weights flag's after a
// restart, as in Mesos; without stored weights the flag's stand.
func TestRestoreWeightsRegistryWins(t *testing.T) {
	flagWeights := map[string]float64{"eng": 2, "ops": 3}
	restart := func(st *registry.State) map[string]float64 {
		reg, err := registry.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		alloc, err := allocator.New(allocator.Config{Weights: flagWeights})
		if err != nil {
			t.Fatal(err)
		}
		c := newCore(slog.New(slog.DiscardHandler), "m", alloc, reg, Config{})
		c.restorePolicy(st, flagWeights)
		return alloc.Weights()
	}
	if w := restart(&registry.State{}); w["eng"] != 2 || w["ops"] != 3 {
		t.Errorf("without stored weights: %v", w)
	}
	src := testCore(t)
	if err := src.reg.Apply(registry.SetWeights{Weights: map[string]float64{"eng": 5}}); err != nil {
		t.Fatal(err)
	}
	w := restart(src.reg.(*registry.Registry).State())
	if w["eng"] != 5 || len(w) != 1 {
		t.Errorf("with stored weights: %v, want only eng=5", w)
	}
}
