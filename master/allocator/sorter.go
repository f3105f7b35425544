package allocator

import (
	"fmt"

	"github.com/cairnhq/cairn/resources"
)

// Sorter is the allocation policy at one level of the hierarchy: it orders
// the clients (roles, or the frameworks of one role) that compete for the
// next agent. The allocator tells it what each client holds and what the
// cluster has; the sorter decides who goes first.
//
// A Sorter is used by one goroutine (the allocator's caller). Add and Remove
// are not idempotent: the allocator adds a client once and removes it once.
// Allocated and Unallocated on a client that was never added panic, since
// that is a bug in the allocator, not an input error.
type Sorter[C ~string] interface {
	// Add makes client compete, with nothing allocated.
	Add(client C)
	// Remove forgets client and its allocation.
	Remove(client C)
	// Has reports whether client was added and not removed.
	Has(client C) bool
	// Allocated records that client now also holds res.
	Allocated(client C, res resources.Resources)
	// Unallocated records that client gave res back.
	Unallocated(client C, res resources.Resources)
	// SetTotal sets the pool that shares are relative to (the cluster).
	SetTotal(total resources.Resources)
	// Sort returns the clients, the one to offer to first at the front. The
	// slice belongs to the sorter and is valid until its next method call.
	Sort() []C
	// Share returns client's current share of the pool, by the sorter's
	// measure, in [0, 1] when its allocation fits the pool.
	Share(client C) float64
	// Allocation returns what client holds.
	Allocation(client C) resources.Resources
}

// SorterDRF is the name of the dominant resource fairness sorter, the
// default at every level (Mesos's --role_sorter and --framework_sorter).
const SorterDRF = "drf"

// NewSorter returns the sorter registered under name ("" means drf).
func NewSorter[C ~string](name string) (Sorter[C], error) {
	switch name {
	case "", SorterDRF:
		return newDRF[C](), nil
	}
	return nil, fmt.Errorf("unknown sorter %q (known: %s)", name, SorterDRF)
}
