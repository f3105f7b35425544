package isolators

import (
	"context"
	"errors"
	"fmt"
)

// Set is the ordered list of isolators the operator selected. It runs each
// stage over its members in order (Cleanup in reverse order) and names the
// isolator in every error.
type Set []Isolator

// Names returns the members' names in order.
func (s Set) Names() []string {
	names := make([]string, len(s))
	for i, iso := range s {
		names[i] = iso.Name()
	}
	return names
}

// Spec computes a container's limits from its resources. It is pure.
func (s Set) Spec(req Request) (Limits, error) {
	var l Limits
	for _, iso := range s {
		if err := iso.Spec(req, &l); err != nil {
			return Limits{}, fmt.Errorf("%s: %w", iso.Name(), err)
		}
	}
	return l, nil
}

// Prepare runs every Preparer and merges their results; two isolators asking
// for different network namespaces is an error.
func (s Set) Prepare(ctx context.Context, c Container, req Request) (Prepared, error) {
	var out Prepared
	for _, iso := range s {
		p, ok := iso.(Preparer)
		if !ok {
			continue
		}
		got, err := p.Prepare(ctx, c, req)
		if err != nil {
			return Prepared{}, fmt.Errorf("%s: prepare: %w", iso.Name(), err)
		}
		if got.NetNS != "" {
			if out.NetNS != "" && out.NetNS != got.NetNS {
				return Prepared{}, fmt.Errorf("%s: prepare: network namespace %q conflicts with %q", iso.Name(), got.NetNS, out.NetNS)
			}
			out.NetNS = got.NetNS
		}
	}
	return out, nil
}

// Apply runs every Applier, stopping at the first error.
func (s Set) Apply(ctx context.Context, c Container, req Request) error {
	for _, iso := range s {
		if a, ok := iso.(Applier); ok {
			if err := a.Apply(ctx, c, req); err != nil {
				return fmt.Errorf("%s: apply: %w", iso.Name(), err)
			}
		}
	}
	return nil
}

// Report runs every Reporter; a failing one does not stop the others, and
// their errors are joined.
func (s Set) Report(ctx context.Context, c Container, u *Usage) error {
	var errs []error
	for _, iso := range s {
		if r, ok := iso.(Reporter); ok {
			if err := r.Report(ctx, c, u); err != nil {
				errs = append(errs, fmt.Errorf("%s: report: %w", iso.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Cleanup runs every Cleaner in reverse order, all of them even when some
// fail, and joins their errors: what one isolator leaves behind must not keep
// the others from cleaning up.
func (s Set) Cleanup(ctx context.Context, c Container) error {
	var errs []error
	for i := len(s) - 1; i >= 0; i-- {
		if cl, ok := s[i].(Cleaner); ok {
			if err := cl.Cleanup(ctx, c); err != nil {
				errs = append(errs, fmt.Errorf("%s: cleanup: %w", s[i].Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}
