package allocator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// sorter is the allocation policy at one level of the role tree: it orders
// the clients (the child roles of a role, or the frameworks of one role)
// that compete for the next agent. The allocator keeps each client's
// allocation and weight up to date and tells the sorter when they change;
// the sorter decides who goes first.
//
// A policy is one implementation of this interface in a file of its own,
// registered by name from that file's init (see registerSorter); adding a
// policy touches no other. A sorter is used only from the allocator's
// caller's goroutine. Every method but sort is cheap and may defer work to
// the next sort.
type sorter interface {
	// add makes c compete (if c.active) with c.alloc and c.weight as set.
	add(c *client)
	// remove forgets c.
	remove(c *client)
	// setActive includes c in sort's output or leaves it out, keeping its
	// allocation: suppressed or disconnected frameworks still hold shares.
	setActive(c *client, active bool)
	// update says c.alloc or c.weight changed.
	update(c *client)
	// setTotal sets the pool that shares are relative to.
	setTotal(total qvec)
	// sort returns the active clients, first served first. The slice
	// belongs to the sorter; it stays unchanged, whatever update says,
	// until the next call of sort, so that the allocator can walk it while
	// it allocates (one agent's visit sees one order).
	sort() []*client
}

// client is one competitor: a role's subtree, a role's own frameworks beside
// its child roles (self), or a framework within a role (sub).
type client struct {
	name   string // full role name or framework id: the tie-breaker
	weight float64
	alloc  qvec // scalar quantities held
	active bool

	node *roleNode // the role, for role-level clients
	self bool      // the node's own frameworks, not its subtree
	sub  *sub      // the subscription, for framework-level clients

	// Policy state. A client is in one sorter at a time.
	key   float64 // the key its position in an ordered sorter was computed with
	stale bool    // queued for repositioning
	idx   int     // position in an unordered sorter's list
}

// sorterFactory builds a sorter; rng is the sorter's own seeded stream.
type sorterFactory func(rng *rand.Rand) sorter

var sorterPolicies = map[string]sorterFactory{}

// registerSorter makes a policy available to Config.RoleSorter and
// Config.FrameworkSorter under name. It is called from init functions.
func registerSorter(name string, f sorterFactory) {
	if _, dup := sorterPolicies[name]; dup {
		panic("allocator: sorter registered twice: " + name)
	}
	sorterPolicies[name] = f
}

// SorterDRF is the default policy at both levels, as in Mesos.
const SorterDRF = "drf"

// SorterNames lists the policies --role_sorter and --framework_sorter
// accept.
func SorterNames() []string {
	names := make([]string, 0, len(sorterPolicies))
	for n := range sorterPolicies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func checkSorter(name string) error {
	if name == "" {
		return nil
	}
	if _, ok := sorterPolicies[name]; !ok {
		return fmt.Errorf("unknown sorter %q (known: %s)", name, strings.Join(SorterNames(), ", "))
	}
	return nil
}

// newSorter builds the named policy ("" is drf) with its own random stream
// drawn from the allocator's seed, so that a sequence of calls always gives
// the same orders.
func (a *Allocator) newSorter(name string) sorter {
	if name == "" {
		name = SorterDRF
	}
	a.sorterStreams++
	s := sorterPolicies[name](rand.New(rand.NewPCG(a.cfg.Seed, a.sorterStreams)))
	s.setTotal(a.total)
	return s
}
