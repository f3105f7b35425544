package scheduler

import (
	"context"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

func callOf(t schedulerpb.Call_Type) *schedulerpb.Call {
	return &schedulerpb.Call{Type: t.Enum()}
}

// Accept accepts offers with operations; unused resources are declined
// with filters (nil: the master's default).
func (c *Client) Accept(ctx context.Context, offerIDs []*mesospb.OfferID, ops []*mesospb.Offer_Operation, filters *mesospb.Filters) error {
	call := callOf(schedulerpb.Call_ACCEPT)
	call.Accept = &schedulerpb.Call_Accept{OfferIds: offerIDs, Operations: ops, Filters: filters}
	return c.Call(ctx, call)
}

// Launch accepts offers with one LAUNCH operation of tasks.
func (c *Client) Launch(ctx context.Context, offerIDs []*mesospb.OfferID, tasks []*mesospb.TaskInfo, filters *mesospb.Filters) error {
	op := &mesospb.Offer_Operation{
		Type:   mesospb.Offer_Operation_LAUNCH.Enum(),
		Launch: &mesospb.Offer_Operation_Launch{TaskInfos: tasks},
	}
	return c.Accept(ctx, offerIDs, []*mesospb.Offer_Operation{op}, filters)
}

// Decline declines offers; an empty list is valid.
func (c *Client) Decline(ctx context.Context, offerIDs []*mesospb.OfferID, filters *mesospb.Filters) error {
	call := callOf(schedulerpb.Call_DECLINE)
	call.Decline = &schedulerpb.Call_Decline{OfferIds: offerIDs, Filters: filters}
	return c.Call(ctx, call)
}

// Kill asks for a task to be killed; agentID and policy may be nil.
func (c *Client) Kill(ctx context.Context, taskID *mesospb.TaskID, agentID *mesospb.AgentID, policy *mesospb.KillPolicy) error {
	call := callOf(schedulerpb.Call_KILL)
	call.Kill = &schedulerpb.Call_Kill{TaskId: taskID, AgentId: agentID, KillPolicy: policy}
	return c.Call(ctx, call)
}

// Acknowledge acknowledges the status update with uuid.
func (c *Client) Acknowledge(ctx context.Context, agentID *mesospb.AgentID, taskID *mesospb.TaskID, uuid []byte) error {
	call := callOf(schedulerpb.Call_ACKNOWLEDGE)
	call.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: agentID, TaskId: taskID, Uuid: uuid}
	return c.Call(ctx, call)
}

// Reconcile asks for the latest state of tasks; none means all of the
// framework's tasks (implicit reconciliation).
func (c *Client) Reconcile(ctx context.Context, tasks []*schedulerpb.Call_Reconcile_Task) error {
	call := callOf(schedulerpb.Call_RECONCILE)
	call.Reconcile = &schedulerpb.Call_Reconcile{Tasks: tasks}
	return c.Call(ctx, call)
}

// Revive removes filters and resumes offers for roles (none: all roles).
func (c *Client) Revive(ctx context.Context, roles ...string) error {
	call := callOf(schedulerpb.Call_REVIVE)
	call.Revive = &schedulerpb.Call_Revive{Roles: roles}
	return c.Call(ctx, call)
}

// Suppress stops offers for roles (none: all roles).
func (c *Client) Suppress(ctx context.Context, roles ...string) error {
	call := callOf(schedulerpb.Call_SUPPRESS)
	call.Suppress = &schedulerpb.Call_Suppress{Roles: roles}
	return c.Call(ctx, call)
}

// Teardown removes the framework and kills its tasks.
func (c *Client) Teardown(ctx context.Context) error {
	return c.Call(ctx, callOf(schedulerpb.Call_TEARDOWN))
}

// Message sends data to an executor.
func (c *Client) Message(ctx context.Context, agentID *mesospb.AgentID, executorID *mesospb.ExecutorID, data []byte) error {
	call := callOf(schedulerpb.Call_MESSAGE)
	call.Message = &schedulerpb.Call_Message{AgentId: agentID, ExecutorId: executorID, Data: data}
	return c.Call(ctx, call)
}

// Shutdown asks an agent to shut an executor down.
func (c *Client) Shutdown(ctx context.Context, executorID *mesospb.ExecutorID, agentID *mesospb.AgentID) error {
	call := callOf(schedulerpb.Call_SHUTDOWN)
	call.Shutdown = &schedulerpb.Call_Shutdown{ExecutorId: executorID, AgentId: agentID}
	return c.Call(ctx, call)
}

// UpdateFramework changes the framework's info; later re-subscriptions use
// the new info.
func (c *Client) UpdateFramework(ctx context.Context, info *mesospb.FrameworkInfo, suppressedRoles []string) error {
	info = cloneInfo(info)
	c.mu.Lock()
	if info.Id == nil {
		info.Id = c.frameworkID
	}
	c.mu.Unlock()
	call := callOf(schedulerpb.Call_UPDATE_FRAMEWORK)
	call.UpdateFramework = &schedulerpb.Call_UpdateFramework{FrameworkInfo: info, SuppressedRoles: suppressedRoles}
	if err := c.Call(ctx, call); err != nil {
		return err
	}
	c.mu.Lock()
	c.info = info
	c.mu.Unlock()
	return nil
}
