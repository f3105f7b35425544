package master

import (
	"fmt"
	"slices"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// The resource operations of an ACCEPT: RESERVE, UNRESERVE, CREATE and
// DESTROY. They run in the order given, before the call's LAUNCH and
// LAUNCH_GROUP operations, and each converts the offered resources in
// place, so a launch in the same ACCEPT uses what they produced. An invalid
// operation is dropped on its own, as Mesos drops it: logged, and when it
// carries an `id` the framework gets UPDATE_OPERATION_STATUS with
// OPERATION_ERROR; the other operations go on. A valid operation with an
// `id` is answered OPERATION_FINISHED at once (the master applies it; the
// agent only checkpoints the result), without a uuid, so no
// acknowledgement is expected.

// allocationUpdater is the allocator's capability to convert resources a
// framework holds (master/allocator's UpdateAllocation).
type allocationUpdater interface {
	UpdateAllocation(al allocator.Allocation, ops []allocator.Operation) (resources.Resources, error)
}

// isResourceOp reports whether t is one of the operations handled here.
func isResourceOp(t mesospb.Offer_Operation_Type) bool {
	switch t {
	case mesospb.Offer_Operation_RESERVE, mesospb.Offer_Operation_UNRESERVE,
		mesospb.Offer_Operation_CREATE, mesospb.Offer_Operation_DESTROY:
		return true
	}
	return false
}

// applyResourceOps applies the resource operations of ops to the offered
// resources (available, by allocation role) and reports whether the
// agent's resources changed; the caller then checkpoints them.
func (c *core) applyResourceOps(f *framework, a *agent, ops []*mesospb.Offer_Operation, available map[string]resources.Resources) bool {
	changed := false
	for _, op := range ops {
		var err error
		switch op.GetType() {
		case mesospb.Offer_Operation_RESERVE:
			err = c.acceptReserve(f, a, op.GetReserve().GetResources(), allocator.Reserve, available)
		case mesospb.Offer_Operation_UNRESERVE:
			err = c.acceptReserve(f, a, op.GetUnreserve().GetResources(), allocator.Unreserve, available)
		case mesospb.Offer_Operation_CREATE:
			err = c.acceptCreate(f, a, op.GetCreate().GetVolumes(), available)
		case mesospb.Offer_Operation_DESTROY:
			err = c.acceptDestroy(f, a, op.GetDestroy().GetVolumes(), available)
		default:
			continue
		}
		if err != nil {
			c.dropOperation(f, op, err.Error())
			continue
		}
		changed = true
		c.log.Info("offer operation applied", "framework_id", f.id, "agent_id", a.id, "type", op.GetType().String())
		c.operationStatus(f, op, mesospb.OperationState_OPERATION_FINISHED, "", a)
	}
	return changed
}

// dropOperation drops an invalid offer operation (Mesos's Master::drop).
func (c *core) dropOperation(f *framework, op *mesospb.Offer_Operation, msg string) {
	c.log.Warn("dropping offer operation", "framework_id", f.id, "type", op.GetType().String(), "err", msg)
	c.operationStatus(f, op, mesospb.OperationState_OPERATION_ERROR, msg, nil)
}

// operationStatus tells f about op when it asked for feedback (op.id set).
// As in Mesos, a dropped operation carries no agent id.
func (c *core) operationStatus(f *framework, op *mesospb.Offer_Operation, state mesospb.OperationState, msg string, a *agent) {
	if op.GetId() == nil {
		return
	}
	st := &mesospb.OperationStatus{OperationId: op.GetId(), State: state.Enum()}
	if msg != "" {
		st.Message = proto.String(msg)
	}
	if a != nil {
		st.AgentId = agentIDpb(a.id)
	}
	c.send(f, &schedulerpb.Event{
		Type:                  schedulerpb.Event_UPDATE_OPERATION_STATUS.Enum(),
		UpdateOperationStatus: &schedulerpb.Event_UpdateOperationStatus{Status: st},
	})
}

// opRole is the allocation role an operation's resources come from: their
// allocation_info for MULTI_ROLE frameworks, else the framework's role.
func opRole(f *framework, rs []*mesospb.Resource) (string, error) {
	if !f.multiRole() {
		return f.roles()[0], nil
	}
	role := resourceRole(rs, "")
	if role == "" {
		return "", fmt.Errorf("Resources of a MULTI_ROLE framework must carry 'allocation_info'")
	}
	if !slices.Contains(f.roles(), role) {
		return "", fmt.Errorf("Resources are allocated to role %q, which the framework is not subscribed to", role)
	}
	return role, nil
}

// checkReservation checks the reservation stack of one RESERVE or
// UNRESERVE resource: a single DYNAMIC reservation (refinements and labels
// are not supported), whose principal, when both are given, is the
// framework's. The principal is not kept: offers show reservations without
// it.
func checkReservation(f *framework, r *mesospb.Resource) error {
	rvs := r.GetReservations()
	switch {
	case len(rvs) == 0 && r.Reservation == nil:
		return fmt.Errorf("Resource %s is not dynamically reserved", r.GetName())
	case len(rvs) > 1:
		return fmt.Errorf("Resource %s has a refined reservation, which is not supported", r.GetName())
	case len(rvs) == 1 && rvs[0].GetType() != mesospb.Resource_ReservationInfo_DYNAMIC:
		return fmt.Errorf("Resource %s is not dynamically reserved", r.GetName())
	}
	principal, labels := r.GetReservation().GetPrincipal(), r.GetReservation().GetLabels()
	if len(rvs) == 1 {
		principal, labels = rvs[0].GetPrincipal(), rvs[0].GetLabels()
	}
	if len(labels.GetLabels()) > 0 {
		// Cairn keeps a reservation's role only: refusing beats losing them.
		return fmt.Errorf("Resource %s: reservation labels are not supported", r.GetName())
	}
	if fp := f.info.GetPrincipal(); fp != "" && principal != "" && principal != fp {
		return fmt.Errorf("A reservation with principal '%s' does not match the framework's principal '%s'", principal, fp)
	}
	return nil
}

// acceptReserve validates one RESERVE (typ Reserve) or UNRESERVE and
// converts the offered resources through the allocator.
func (c *core) acceptReserve(f *framework, a *agent, in []*mesospb.Resource, typ allocator.OperationType, available map[string]resources.Resources) error {
	if len(in) == 0 {
		return fmt.Errorf("Invalid %v operation: no resources specified", typ)
	}
	for _, r := range in {
		if r.GetDisk().GetPersistence() != nil {
			return fmt.Errorf("Invalid %v operation: resource %s is a persistent volume (DESTROY it first)", typ, r.GetName())
		}
		if err := checkReservation(f, r); err != nil {
			return err
		}
	}
	role, err := opRole(f, in)
	if err != nil {
		return err
	}
	res, err := fromProto(in)
	if err != nil {
		return fmt.Errorf("Invalid %v operation: %v", typ, err)
	}
	for r := range res.All() {
		if typ == allocator.Reserve && r.Role != role {
			return fmt.Errorf("Invalid RESERVE operation: resources are reserved for role %q but allocated to %q", r.Role, role)
		}
		if typ == allocator.Unreserve && !resources.IsAllocatableTo(r.Role, role) {
			return fmt.Errorf("Invalid UNRESERVE operation: resources reserved for %q cannot be unreserved by role %q", r.Role, role)
		}
	}
	from := res
	if typ == allocator.Reserve {
		from = res.ToUnreserved()
	}
	if !available[role].Contains(from) {
		return fmt.Errorf("Invalid %v operation: %s does not contain %s", typ, available[role], from)
	}
	if typ == allocator.Unreserve {
		if err := volumesStayBacked(a, res); err != nil {
			return err
		}
	}
	up, ok := c.alloc.(allocationUpdater)
	if !ok {
		return fmt.Errorf("Invalid %v operation: not supported by this allocator", typ)
	}
	piece, err := up.UpdateAllocation(allocator.Allocation{Framework: f.id, Agent: a.id, Role: role, Resources: available[role]},
		[]allocator.Operation{{Type: typ, Resources: res}})
	if err != nil {
		return fmt.Errorf("Invalid %v operation: %v", typ, err)
	}
	available[role] = piece
	c.syncTotal(a)
	return nil
}

// volumesStayBacked refuses an UNRESERVE that would leave the agent's
// persistent volumes more reserved disk than it has.
func volumesStayBacked(a *agent, unreserve resources.Resources) error {
	vols, _ := fromProto(volumesOf(a.info.GetResources()))
	left := a.total.Subtract(unreserve)
	if !left.Contains(vols) {
		return fmt.Errorf("Invalid UNRESERVE operation: the reserved disk holds persistent volumes")
	}
	return nil
}
