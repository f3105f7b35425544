package isolatortest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/isolators"
)

// bad breaks one rule of the contract at a time.
type bad struct {
	name       string
	clobber    bool // zeroes a field it does not own
	dirtyOnErr bool // writes Limits, then fails
	flaky      *int // alternates results
	cleanupErr bool
}

func (b bad) Name() string { return b.name }

func (b bad) Spec(req isolators.Request, l *isolators.Limits) error {
	if b.flaky != nil {
		*b.flaky++
		l.PidsMax = int64(*b.flaky)
		return nil
	}
	if b.clobber {
		l.MemoryBytes = 0
	}
	l.CPUShares = 10
	if b.dirtyOnErr && req.CPUs <= 0 {
		return errors.New("no cpus")
	}
	return nil
}

func (b bad) Cleanup(context.Context, isolators.Container) error {
	if b.cleanupErr {
		return errors.New("unknown container")
	}
	return nil
}

func TestProblemsCatchViolations(t *testing.T) {
	n := 0
	for _, tt := range []struct {
		iso  isolators.Isolator
		want string
	}{
		{bad{name: "nofamily"}, "want family/name"},
		{bad{name: "t/clobber", clobber: true}, "cleared MemoryBytes"},
		{bad{name: "t/dirty", dirtyOnErr: true}, "failed (no cpus) but changed Limits"},
		{bad{name: "t/flaky", flaky: &n}, "not deterministic"},
		{bad{name: "t/cleanup", cleanupErr: true}, "Cleanup #1 of an unknown container"},
	} {
		got := strings.Join(Problems(context.Background(), tt.iso), "\n")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want one containing %q", tt.iso.Name(), got, tt.want)
		}
	}
	if p := Problems(context.Background(), bad{name: "t/good"}); len(p) != 0 {
		t.Errorf("well-behaved isolator has problems: %v", p)
	}
}
