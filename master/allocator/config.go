package allocator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairnhq/cairn/resources"
)

// Config is the allocator's policy, fixed at New.
type Config struct {
	// AllocationInterval is the master's --allocation_interval. The allocator
	// does not time anything itself; it only uses the interval as the
	// shortest life of an offer filter, so that a filter always survives
	// until the next periodic allocation (Mesos's MESOS-4302 rule).
	AllocationInterval time.Duration

	// MinAllocatable is --min_allocatable_resources: resources are offered
	// only if they contain at least one of these scalar quantities. nil means
	// DefaultMinAllocatable; an empty, non-nil slice means no minimum.
	MinAllocatable []resources.Resources

	// RoleSorter and FrameworkSorter name the policy at each level
	// (--role_sorter, --framework_sorter): "drf" (the default, ""),
	// "priority" or "random"; SorterNames lists them.
	RoleSorter, FrameworkSorter string

	// Weights are the initial role weights (--weights, see ParseWeights);
	// UpdateWeights changes them later. A role without one weighs 1.
	Weights map[string]float64

	// Shuffle visits agents in a fresh random order each Allocate, as Mesos
	// does, so that no agent is always first. Without Shuffle agents are
	// visited in id order. Seed feeds the shuffle and the random sorter, so
	// a given sequence of calls always gives the same offers.
	Shuffle bool
	Seed    uint64
}

// ParseWeights reads the --weights syntax, "role=weight" pairs separated by
// commas: "eng=2,eng/web=3,ops=0.5". The empty string means no weights.
func ParseWeights(s string) (map[string]float64, error) {
	out := map[string]float64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		role, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("parse weights: %q is not role=weight", part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			return nil, fmt.Errorf("parse weights: %q: weight is not a number", part)
		}
		role = strings.TrimSpace(role)
		if _, dup := out[role]; dup {
			return nil, fmt.Errorf("parse weights: role %q given twice", role)
		}
		out[role] = v
	}
	if err := checkWeights(out); err != nil {
		return nil, fmt.Errorf("parse weights: %w", err)
	}
	return out, nil
}

// checkWeights applies Mesos's rules: valid roles, finite positive weights.
func checkWeights(w map[string]float64) error {
	for role, v := range w {
		if err := resources.ValidateRole(role); err != nil {
			return err
		}
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("role %q: weight %v is not a positive number", role, v)
		}
	}
	return nil
}

// DefaultMinAllocatable is Mesos's default --min_allocatable_resources,
// "cpus:0.01|mem:32".
func DefaultMinAllocatable() []resources.Resources {
	return []resources.Resources{
		resources.Must(resources.NewScalar("cpus", 0.01)),
		resources.Must(resources.NewScalar("mem", 32)),
	}
}

// ParseMinAllocatable reads the --min_allocatable_resources syntax: resource
// vectors separated by '|', e.g. "cpus:0.01|mem:32" or "cpus:1;mem:512|gpus:1".
// The empty string means no minimum.
func ParseMinAllocatable(s string) ([]resources.Resources, error) {
	out := []resources.Resources{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, "|") {
		rs, err := resources.Parse(part)
		if err != nil {
			return nil, fmt.Errorf("parse min allocatable resources: %w", err)
		}
		if err := checkQuantities(rs); err != nil {
			return nil, fmt.Errorf("parse min allocatable resources: %w", err)
		}
		out = append(out, rs)
	}
	return out, nil
}

func checkQuantities(rs resources.Resources) error {
	if rs.IsEmpty() {
		return fmt.Errorf("an empty alternative would make everything allocatable")
	}
	for r := range rs.All() {
		if r.Type != resources.Scalar {
			return fmt.Errorf("%s: only scalar quantities are allowed", r.Name)
		}
	}
	return nil
}

// Filter is a framework's refusal of resources (Mesos's Filters message).
type Filter struct {
	// RefuseSeconds is how long the refused resources must not be offered
	// to the framework again. Mesos's rules apply: negative or NaN means the
	// default 5 s, anything above 365 days is capped, 0 means no filter.
	// Callers converting from the wire pass Filters.GetRefuseSeconds(),
	// whose protobuf default is already 5.
	RefuseSeconds float64
}

// DefaultRefuse is Mesos's default refuse_seconds; maxRefuse its cap.
const (
	DefaultRefuse = 5 * time.Second
	maxRefuse     = 365 * 24 * time.Hour
)

// duration applies Mesos's rules to RefuseSeconds.
func (f Filter) duration() time.Duration {
	s := f.RefuseSeconds
	switch {
	case math.IsNaN(s) || s < 0:
		return DefaultRefuse
	case s >= maxRefuse.Seconds():
		return maxRefuse
	}
	return time.Duration(s * float64(time.Second))
}
