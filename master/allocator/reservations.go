package allocator

import (
	"fmt"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// OperationType is what an Operation does to an agent's resources.
type OperationType uint8

// The operations that change what an agent's resources are reserved for.
const (
	// Reserve turns unreserved resources into the dynamic reservations in
	// Operation.Resources (Mesos's RESERVE).
	Reserve OperationType = iota + 1
	// Unreserve turns the dynamic reservations in Operation.Resources back
	// into unreserved resources (UNRESERVE). Static reservations, from the
	// agent's --resources, cannot be unreserved.
	Unreserve
)

func (t OperationType) String() string {
	switch t {
	case Reserve:
		return "RESERVE"
	case Unreserve:
		return "UNRESERVE"
	}
	return fmt.Sprintf("OperationType(%d)", uint8(t))
}

// Operation is a RESERVE or UNRESERVE, from a framework's ACCEPT or from an
// operator. Resources are the reserved resources in both cases: each entry
// Dynamic, with a role. Refined reservations (reserving already reserved
// resources for a subrole) are not supported.
type Operation struct {
	Type      OperationType
	Resources resources.Resources
}

// convert returns what op consumes and what it produces.
func (op Operation) convert() (from, to resources.Resources, err error) {
	if op.Resources.IsEmpty() {
		return from, to, fmt.Errorf("%v of nothing", op.Type)
	}
	for r := range op.Resources.All() {
		if r.Role == resources.Unreserved || !r.Dynamic {
			return from, to, fmt.Errorf("%v %s: only dynamic reservations for a role", op.Type, r)
		}
	}
	switch op.Type {
	case Reserve:
		return op.Resources.ToUnreserved(), op.Resources, nil
	case Unreserve:
		return op.Resources, op.Resources.ToUnreserved(), nil
	}
	return from, to, fmt.Errorf("unknown operation %v", op.Type)
}

// UpdateAvailable applies operator RESERVE and UNRESERVE operations to an
// agent's free resources (RESERVE_RESOURCES, UNRESERVE_RESOURCES, /reserve).
// The resources must be free: the master rescinds the agent's offers first.
// All operations apply or none. The agent's total changes; the master
// checkpoints it on the agent.
func (a *Allocator) UpdateAvailable(id ids.AgentID, ops []Operation) error {
	ag, ok := a.agents[id]
	if !ok {
		return fmt.Errorf("update available on agent %s: unknown agent", id)
	}
	free, total := ag.free, ag.info.Total
	for _, op := range ops {
		from, to, err := op.convert()
		if err != nil {
			return fmt.Errorf("update available on agent %s: %w", id, err)
		}
		if !free.Contains(from) {
			return fmt.Errorf("update available on agent %s: %v needs %s, free is %q", id, op.Type, from, free)
		}
		free = free.Subtract(from).Add(to)
		total = total.Subtract(from).Add(to)
	}
	a.replaceTotal(ag, total)
	return nil
}

// UpdateAllocation applies a framework's RESERVE and UNRESERVE operations
// (from an ACCEPT) to resources it holds on the agent under al.Role:
// al.Resources is the part they apply to, typically the accepted offer's.
// It returns that part converted, which stays held. A framework reserves
// only for its own role and unreserves only what its role may use.
func (a *Allocator) UpdateAllocation(al Allocation, ops []Operation) (resources.Resources, error) {
	ag, ok := a.agents[al.Agent]
	if !ok {
		return resources.Resources{}, fmt.Errorf("update allocation on agent %s: unknown agent", al.Agent)
	}
	f, ok := a.frameworks[al.Framework]
	if !ok {
		return resources.Resources{}, fmt.Errorf("update allocation of framework %s: unknown framework", al.Framework)
	}
	role := al.Role
	if role == "" && len(f.roles) == 1 {
		role = f.roles[0]
	}
	held, _ := ag.holdings.get(holder{al.Framework, role})
	if al.Resources.IsEmpty() || !held.Contains(al.Resources) {
		return resources.Resources{}, fmt.Errorf("update allocation of framework %s on agent %s role %q: %s is not held (holds %q)",
			al.Framework, al.Agent, role, al.Resources, held)
	}
	piece, total := al.Resources, ag.info.Total
	for _, op := range ops {
		from, to, err := op.convert()
		if err == nil {
			err = checkOpRole(op, role)
		}
		if err != nil {
			return resources.Resources{}, fmt.Errorf("update allocation of framework %s: %w", al.Framework, err)
		}
		if !piece.Contains(from) {
			return resources.Resources{}, fmt.Errorf("update allocation of framework %s: %v needs %s, the allocation has %q",
				al.Framework, op.Type, from, piece)
		}
		piece = piece.Subtract(from).Add(to)
		total = total.Subtract(from).Add(to)
	}
	a.untrack(al.Framework, role, ag, al.Resources)
	a.replaceTotal(ag, total)
	a.track(al.Framework, role, ag, piece)
	return piece, nil
}

func checkOpRole(op Operation, role string) error {
	for r := range op.Resources.All() {
		switch {
		case op.Type == Reserve && r.Role != role:
			return fmt.Errorf("RESERVE for role %q from an allocation to %q", r.Role, role)
		case op.Type == Unreserve && !resources.IsAllocatableTo(r.Role, role):
			return fmt.Errorf("UNRESERVE of %q resources from an allocation to %q", r.Role, role)
		}
	}
	return nil
}
