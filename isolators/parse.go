package isolators

import (
	"fmt"
	"slices"
	"strings"
)

// Config holds the agent flags the built-in isolators read.
type Config struct {
	// EnableCFS sets a hard CFS quota of cpus × period (--cgroups_enable_cfs;
	// Cairn's default is true, Mesos's is false).
	EnableCFS bool
	// PidsMax is the per-container task ceiling (--cgroups_pids_max); <= 0
	// means no limit.
	PidsMax int64
}

// DefaultConfig is Cairn's default: CFS quota on, 4096 tasks per container.
func DefaultConfig() Config {
	return Config{EnableCFS: true, PidsMax: DefaultPidsMax}
}

// builtin maps every isolator name Parse knows to its constructor.
var builtin = map[string]func(Config) Isolator{
	"cgroups/cpu":  func(c Config) Isolator { return CPU{EnableCFS: c.EnableCFS} },
	"cgroups/mem":  func(Config) Isolator { return Mem{} },
	"cgroups/pids": func(c Config) Isolator { return Pids{Max: c.PidsMax} },
}

// Known returns the names Parse accepts, sorted.
func Known() []string {
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Parse turns the --isolation flag (comma-separated names, for example
// "cgroups/cpu,cgroups/mem,cgroups/pids") into a Set in the given order. An
// empty flag selects nothing. Unknown, empty and repeated names are errors;
// the error for an unknown name lists the known ones.
func Parse(flag string, cfg Config) (Set, error) {
	if strings.TrimSpace(flag) == "" {
		return nil, nil
	}
	var set Set
	seen := make(map[string]bool)
	for _, raw := range strings.Split(flag, ",") {
		name := strings.TrimSpace(raw)
		if name == "" {
			return nil, fmt.Errorf("parse isolation %q: empty isolator name", flag)
		}
		mk, ok := builtin[name]
		if !ok {
			return nil, fmt.Errorf("parse isolation %q: unknown isolator %q (known: %s)", flag, name, strings.Join(Known(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("parse isolation %q: isolator %q given twice", flag, name)
		}
		seen[name] = true
		set = append(set, mk(cfg))
	}
	return set, nil
}
