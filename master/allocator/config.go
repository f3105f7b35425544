package allocator

import (
	"fmt"
	"math"
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

	// RoleSorter and FrameworkSorter name the policy at each level (see
	// NewSorter); "" is "drf".
	RoleSorter, FrameworkSorter string

	// Shuffle visits agents in a fresh random order each Allocate, as Mesos
	// does, so that no agent is always first; the order is drawn from Seed,
	// so a given sequence of calls still gives the same offers. Without
	// Shuffle agents are visited in id order.
	Shuffle bool
	Seed    uint64
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
