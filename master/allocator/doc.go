// Package allocator decides which framework is offered which agent's free
// resources: the policy half of the Mesos master, as a pure state machine.
//
// Events go in (agents and frameworks added, changed, removed, activated;
// roles suppressed and revived; resources recovered with a refusal filter),
// decisions come out (Allocate returns allocations, which the master turns
// into offers). Offered resources count as allocated until the master
// recovers them, exactly as in Mesos.
//
// The policy is hierarchical: a role Sorter orders roles, then a framework
// Sorter per role orders that role's frameworks; both are dominant resource
// fairness (DRF) by default. Each agent's free resources go, whole, to the
// first eligible framework in that order (Mesos offers all free resources of
// an agent to one framework per allocation). Roles are flat for now;
// hierarchical roles, weights, quota and other sorters extend the Sorter
// and Config without changing the event API.
//
// The package does no I/O, starts no goroutine and reads no clock: every
// call that depends on time takes now. Randomness (agent shuffling) comes
// only from Config.Seed, so a sequence of calls always yields the same
// allocations. An Allocator is not safe for concurrent use; the master calls
// it from its single state loop.
package allocator
