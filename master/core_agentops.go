package master

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/registry"
	"google.golang.org/protobuf/proto"
)

// Operator calls on agents and frameworks.

func notFound(format string, args ...any) error {
	return &api.HTTPError{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, args...)}
}

// DeactivateAgent handles DEACTIVATE_AGENT: no more offers of the agent;
// outstanding ones are rescinded; its tasks keep running.
func (c *core) DeactivateAgent(id ids.AgentID, now time.Time) error {
	a, ok := c.agents[id]
	if !ok {
		return badRequest("No agent found with specified ID")
	}
	if a.active {
		a.active = false
		c.allocErr("deactivate agent", c.alloc.DeactivateAgent(id))
	}
	for _, o := range c.sortedOffers() {
		if o.agent == id {
			c.removeOffer(o, true, true, now)
		}
	}
	return nil
}

// ReactivateAgent handles REACTIVATE_AGENT (also ending a drain).
func (c *core) ReactivateAgent(id ids.AgentID) error {
	a, ok := c.agents[id]
	if !ok {
		return badRequest("No agent found with specified ID")
	}
	a.draining = false
	if !a.active {
		a.active = true
		c.allocErr("activate agent", c.alloc.ActivateAgent(id))
	}
	c.allocateSoon = true
	return nil
}

// DrainAgent handles DRAIN_AGENT: the agent is deactivated and every live
// task on it is killed, with max_grace_period as the kill grace period when
// given.
func (c *core) DrainAgent(id ids.AgentID, grace *mesospb.DurationInfo, now time.Time) error {
	if err := c.DeactivateAgent(id, now); err != nil {
		return err
	}
	a := c.agents[id]
	a.draining = true
	var policy *mesospb.KillPolicy
	if grace != nil {
		policy = &mesospb.KillPolicy{GracePeriod: proto.Clone(grace).(*mesospb.DurationInfo)}
	}
	for _, f := range c.sortedFrameworks() {
		for _, t := range f.tasks {
			if t.agent == id && !isTerminal(t.pb.GetState()) {
				c.toAgent(a, "kill_task", &internalpb.KillTask{FrameworkId: frameworkIDpb(f.id), TaskId: t.pb.TaskId, KillPolicy: policy})
			}
		}
	}
	return nil
}

// MarkAgentGone handles MARK_AGENT_GONE: the operator asserts the agent is
// gone for good. Its live tasks become TASK_GONE_BY_OPERATOR (TASK_LOST for
// frameworks that are not partition-aware), frameworks get FAILURE, and the
// registry remembers it so it is never admitted again. Idempotent.
func (c *core) MarkAgentGone(id ids.AgentID, now time.Time) error {
	if c.gone[id] {
		return nil
	}
	_, admitted := c.agents[id]
	_, recovered := c.recovered[id]
	_, unreachable := c.unreachable[id]
	if !admitted && !recovered && !unreachable {
		return notFound("Agent %s not found", id)
	}
	if err := c.reg.Apply(registry.MarkAgentGone{ID: id, When: now}); err != nil {
		return &api.HTTPError{Status: http.StatusInternalServerError, Msg: "persist agent gone: " + err.Error()}
	}
	c.gone[id] = true
	c.forgetLostByRemoval(id)
	delete(c.recovered, id)
	delete(c.unreachable, id)
	if admitted {
		c.dropAgent(id, now)
	}
	for _, f := range c.sortedFrameworks() {
		for tid, t := range f.tasks {
			if t.agent != id || (isTerminal(t.pb.GetState()) && t.pb.GetState() != mesospb.TaskState_TASK_LOST) {
				continue
			}
			if t.pb.GetState() == mesospb.TaskState_TASK_LOST {
				continue
			}
			st := c.masterStatusFor(f.id, tid, id, lostFor(f, mesospb.TaskState_TASK_GONE_BY_OPERATOR),
				mesospb.TaskStatus_REASON_AGENT_REMOVED_BY_OPERATOR, "Agent "+string(id)+" marked gone by the operator", true, now)
			st.ExecutorId = t.pb.ExecutorId
			c.setMasterState(f, t, st)
			t.recovered = true
			c.sendUpdate(f, st)
		}
	}
	c.log.Info("agent marked gone", "agent_id", id)
	return nil
}

// dropAgent takes an admitted agent out of service: offers rescinded,
// allocator told, frameworks sent FAILURE{agent_id} (as Mesos does for a
// lost agent), operator subscribers AGENT_REMOVED. Tasks are the caller's.
func (c *core) dropAgent(id ids.AgentID, now time.Time) {
	for _, o := range c.sortedOffers() {
		if o.agent == id {
			c.removeOffer(o, true, false, now)
		}
	}
	c.allocErr("remove agent", c.alloc.RemoveAgent(id))
	delete(c.agents, id)
	failure := &schedulerpb.Event{
		Type:    schedulerpb.Event_FAILURE.Enum(),
		Failure: &schedulerpb.Event_Failure{AgentId: agentIDpb(id)},
	}
	for _, f := range c.sortedFrameworks() {
		c.send(f, failure)
	}
	c.opAgentRemoved(id)
}

// TeardownFramework handles the operator's TEARDOWN and /teardown.
func (c *core) TeardownFramework(id ids.FrameworkID, now time.Time) error {
	f, ok := c.frameworks[id]
	if !ok {
		return badRequest("No framework found with specified ID")
	}
	c.removeFramework(f, now)
	return nil
}
