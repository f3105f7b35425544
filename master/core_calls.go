package master

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
)

func forbidden(format string, args ...any) error {
	return &api.HTTPError{Status: http.StatusForbidden, Msg: fmt.Sprintf(format, args...)}
}

// Call handles every scheduler call except SUBSCRIBE, made with the
// Mesos-Stream-Id header streamID (already checked to be present). A nil
// error means 202 (200 for UPDATE_FRAMEWORK); errors are *api.HTTPError.
func (c *core) Call(call *schedulerpb.Call, streamID string, now time.Time) error {
	fid := ids.FrameworkID(call.GetFrameworkId().GetValue())
	if fid == "" {
		return badRequest("Expecting 'framework_id' to be present")
	}
	f, ok := c.frameworks[fid]
	if !ok {
		return forbidden("Framework %s is not subscribed", fid)
	}
	if f.stream == "" {
		return forbidden("Framework %s is not subscribed", fid)
	}
	if f.stream != streamID {
		return badRequest("The stream ID '%s' included in this request didn't match the stream ID currently associated with framework ID %s", streamID, fid)
	}
	if err := checkCallShape(call); err != nil {
		return err
	}
	switch call.GetType() {
	case schedulerpb.Call_TEARDOWN:
		c.Teardown(f, now)
	case schedulerpb.Call_ACCEPT:
		c.Accept(f, call.GetAccept(), now)
	case schedulerpb.Call_DECLINE:
		c.Decline(f, call.GetDecline().GetOfferIds(), call.GetDecline().GetFilters(), now)
	case schedulerpb.Call_REVIVE:
		c.Revive(f, call.GetRevive().GetRoles())
	case schedulerpb.Call_SUPPRESS:
		c.Suppress(f, call.GetSuppress().GetRoles())
	case schedulerpb.Call_KILL:
		c.Kill(f, call.GetKill(), now)
	case schedulerpb.Call_SHUTDOWN:
		c.Shutdown(f, call.GetShutdown())
	case schedulerpb.Call_ACKNOWLEDGE:
		c.Acknowledge(f, call.GetAcknowledge())
	case schedulerpb.Call_RECONCILE:
		c.Reconcile(f, call.GetReconcile(), now)
	case schedulerpb.Call_MESSAGE:
		c.Message(f, call.GetMessage())
	case schedulerpb.Call_REQUEST:
		// Ignored by Mesos's allocator too.
	case schedulerpb.Call_ACCEPT_INVERSE_OFFERS, schedulerpb.Call_DECLINE_INVERSE_OFFERS:
		// Cairn makes no inverse offers (no maintenance schedules yet), so
		// every inverse offer id is unknown, which Mesos ignores.
	case schedulerpb.Call_ACKNOWLEDGE_OPERATION_STATUS:
		// No offer operation reports status yet (no operation has an id).
	case schedulerpb.Call_RECONCILE_OPERATIONS:
		// Nothing to reconcile: operations without id get no updates.
	case schedulerpb.Call_UPDATE_FRAMEWORK:
		return c.UpdateFramework(f, call.GetUpdateFramework(), now)
	default:
		return badRequest("Unsupported call type %s", call.GetType())
	}
	return nil
}

// checkCallShape applies Mesos's validation of the call's union field.
func checkCallShape(call *schedulerpb.Call) error {
	missing := func(field string) error {
		return badRequest("Expecting '%s' to be present", field)
	}
	switch call.GetType() {
	case schedulerpb.Call_ACCEPT:
		if call.Accept == nil {
			return missing("accept")
		}
	case schedulerpb.Call_DECLINE:
		if call.Decline == nil {
			return missing("decline")
		}
	case schedulerpb.Call_KILL:
		if call.Kill == nil {
			return missing("kill")
		}
		if call.GetKill().GetTaskId() == nil {
			return missing("kill.task_id")
		}
	case schedulerpb.Call_ACKNOWLEDGE:
		ack := call.GetAcknowledge()
		if ack == nil {
			return missing("acknowledge")
		}
		if len(ack.GetUuid()) != 16 {
			return badRequest("'acknowledge.uuid' must be 16 bytes, got %d", len(ack.GetUuid()))
		}
	case schedulerpb.Call_RECONCILE:
		if call.Reconcile == nil {
			return missing("reconcile")
		}
	case schedulerpb.Call_MESSAGE:
		m := call.GetMessage()
		if m == nil {
			return missing("message")
		}
		if m.GetAgentId().GetValue() == "" || m.GetExecutorId().GetValue() == "" {
			return badRequest("Expecting 'message.agent_id' and 'message.executor_id' to be present")
		}
	case schedulerpb.Call_SHUTDOWN:
		sh := call.GetShutdown()
		if sh == nil {
			return missing("shutdown")
		}
		if sh.GetExecutorId().GetValue() == "" || sh.GetAgentId().GetValue() == "" {
			return badRequest("Expecting 'shutdown.executor_id' and 'shutdown.agent_id' to be present")
		}
	case schedulerpb.Call_UPDATE_FRAMEWORK:
		if call.UpdateFramework == nil {
			return missing("update_framework")
		}
	case schedulerpb.Call_ACCEPT_INVERSE_OFFERS:
		if call.AcceptInverseOffers == nil {
			return missing("accept_inverse_offers")
		}
	case schedulerpb.Call_DECLINE_INVERSE_OFFERS:
		if call.DeclineInverseOffers == nil {
			return missing("decline_inverse_offers")
		}
	case schedulerpb.Call_ACKNOWLEDGE_OPERATION_STATUS:
		if call.AcknowledgeOperationStatus == nil {
			return missing("acknowledge_operation_status")
		}
	case schedulerpb.Call_RECONCILE_OPERATIONS:
		if call.ReconcileOperations == nil {
			return missing("reconcile_operations")
		}
	}
	return nil
}
