package flags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// EnvPrefix is prepended to a flag's upper-cased name to find its environment
// variable: --work_dir ↔ CAIRN_WORK_DIR.
const EnvPrefix = "CAIRN_"

// Set is a named set of flags.
type Set struct {
	fs     *flag.FlagSet
	lookup func(string) (string, bool)
}

// NewSet returns an empty set whose usage text goes to out.
func NewSet(name string, out io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &Set{fs: fs, lookup: os.LookupEnv}
}

// SetEnv replaces the environment lookup (tests).
func (s *Set) SetEnv(lookup func(string) (string, bool)) { s.lookup = lookup }

// FlagSet exposes the underlying set, e.g. to register a flag.Value.
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

// String, Int, Uint, Float, Bool and Duration register a flag with a default
// and a help text, storing into p.
func (s *Set) String(p *string, name, def, help string) { s.fs.StringVar(p, name, def, help) }
func (s *Set) Int(p *int, name string, def int, help string) {
	s.fs.IntVar(p, name, def, help)
}
func (s *Set) Uint(p *uint, name string, def uint, help string) {
	s.fs.UintVar(p, name, def, help)
}
func (s *Set) Float(p *float64, name string, def float64, help string) {
	s.fs.Float64Var(p, name, def, help)
}
func (s *Set) Bool(p *bool, name string, def bool, help string) {
	s.fs.BoolVar(p, name, def, help)
}
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, help string) {
	*p = def
	s.fs.Var(durationValue{p}, name, help)
}

// IsBool reports whether name is a registered boolean flag (which takes no
// separate value argument).
func (s *Set) IsBool(name string) bool {
	f := s.fs.Lookup(name)
	return f != nil && isBool(f)
}

// Has reports whether a flag of that name is registered.
func (s *Set) Has(name string) bool { return s.fs.Lookup(name) != nil }

// Parse parses args (without the program name). `--no-NAME` sets a boolean
// flag NAME to false, as Mesos allows. Flags not on the command line are then
// taken from CAIRN_<NAME> when set. Positional arguments are returned.
func (s *Set) Parse(args []string) ([]string, error) {
	rewritten := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			rewritten = append(rewritten, args[i:]...)
			break
		}
		if name, ok := strings.CutPrefix(a, "--no-"); ok && !strings.Contains(name, "=") {
			if f := s.fs.Lookup(name); f != nil && isBool(f) {
				rewritten = append(rewritten, "--"+name+"=false")
				continue
			}
		}
		rewritten = append(rewritten, a)
	}
	if err := s.fs.Parse(rewritten); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("parse flags: %w", err)
	}
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	s.fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := EnvPrefix + strings.ToUpper(f.Name)
		if v, ok := s.lookup(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s: %w", env, err))
			}
		}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s.fs.Args(), nil
}

// Values returns every flag's current value as text, for /flags and GET_FLAGS.
func (s *Set) Values() map[string]string {
	out := map[string]string{}
	s.fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

// Names returns the registered flag names, sorted.
func (s *Set) Names() []string {
	var names []string
	s.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	return names
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
