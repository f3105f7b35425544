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
	case schedulerpb.Call_MESSAGE, schedulerpb.Call_REQUEST:
		// Accepted and dropped: framework messages are relayed in a later
		// version, REQUEST is ignored by Mesos too.
	case schedulerpb.Call_UPDATE_FRAMEWORK:
		return c.UpdateFramework(f, call.GetUpdateFramework())
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
	case schedulerpb.Call_SHUTDOWN:
		if call.Shutdown == nil {
			return missing("shutdown")
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
		if call.Message == nil {
			return missing("message")
		}
	case schedulerpb.Call_UPDATE_FRAMEWORK:
		if call.UpdateFramework == nil {
			return missing("update_framework")
		}
	}
	return nil
}
