package master

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/master/registry"
	"google.golang.org/protobuf/proto"
)

// agentByNode finds the admitted agent using a gossip node name.
func (c *core) agentByNode(node string) *agent {
	for _, a := range c.agents {
		if a.nodeName == node {
			return a
		}
	}
	return nil
}

// AdmitAgent admits (or re-admits) the agent that answered
// /internal/v1/state at addr: it gets an id if it has none, is recorded in
// the registry, told it is registered, and handed to the allocator with its
// live tasks' resources as used.
func (c *core) AdmitAgent(st *internalpb.AgentState, addr netip.AddrPort, gossipAddr, node string, now time.Time) (ids.AgentID, error) {
	info := proto.Clone(st.GetAgentInfo()).(*mesospb.AgentInfo)
	total, err := fromProto(info.GetResources())
	if err != nil {
		return "", fmt.Errorf("agent %s resources: %w", node, err)
	}
	if info.Hostname == nil {
		info.Hostname = proto.String(addr.Addr().String())
	}
	if info.Port == nil {
		info.Port = proto.Int32(int32(addr.Port()))
	}
	id := ids.AgentID(info.GetId().GetValue())
	if c.gone[id] {
		return "", fmt.Errorf("agent %s was marked gone by an operator and is not admitted again", id)
	}
	if old := c.agentByNode(node); old != nil && (id == "" || id == old.id) {
		// The same agent process or its restart: keep its id.
		id = old.id
		info.Id = agentIDpb(id)
	}
	next := uint64(0) // 0: the agent kept the id it was given before
	if id == "" {
		id = ids.AgentID(fmt.Sprintf("%s-S%d", c.masterID, c.nextAgent))
		info.Id = agentIDpb(id)
		next = c.nextAgent + 1
	}
	total, resync := c.reconcileCheckpointed(id, info, total)
	readmit := false
	if old, ok := c.agents[id]; ok {
		// Re-admission of an agent we still hold (it restarted faster than
		// gossip noticed): drop the old session but not its tasks; the
		// agent's report below is the truth about them.
		readmit = true
		for _, o := range c.offers {
			if o.agent == id {
				c.removeOffer(o, true, false, now)
			}
		}
		c.allocErr("remove agent", c.alloc.RemoveAgent(old.id))
		delete(c.agents, id)
	}
	if err := c.reg.Apply(registry.AdmitAgent{Info: info, GossipAddress: gossipAddr, Admitted: now, Next: next}); err != nil {
		return "", fmt.Errorf("admit agent: %w", err)
	}
	if next != 0 {
		c.nextAgent = next
	}
	a := &agent{id: id, info: info, addr: addr, gossipAddr: gossipAddr, nodeName: node,
		total: total, registered: now, version: st.GetVersion(), active: true}
	c.agents[id] = a
	delete(c.recovered, id)
	delete(c.unreachable, id)

	var used []allocator.Allocation
	var back []returned
	reported := map[ids.TaskID]bool{}
	var shutdown []ids.FrameworkID
	for _, tpb := range st.GetTasks() {
		reported[ids.TaskID(tpb.GetTaskId().GetValue())] = true
		fid := ids.FrameworkID(tpb.GetFrameworkId().GetValue())
		res, err := fromProto(tpb.GetResources())
		if err != nil {
			c.log.Warn("agent reports a task with invalid resources", "agent_id", id, "task_id", tpb.GetTaskId().GetValue(), "err", err)
			continue
		}
		live := !isTerminal(tpb.GetState())
		f, known := c.frameworks[fid]
		role := "*"
		if known {
			role = f.roles()[0]
		}
		role = resourceRole(tpb.GetResources(), role)
		if !known {
			// A framework the registry does not know was torn down (the
			// registry holds every live one): its tasks must go.
			if !slices.Contains(shutdown, fid) {
				shutdown = append(shutdown, fid)
			}
			continue
		}
		if live {
			used = append(used, allocator.Allocation{Framework: fid, Agent: id, Role: role, Resources: res})
		}
		tid := ids.TaskID(tpb.GetTaskId().GetValue())
		prev, had := f.tasks[tid]
		t := &task{pb: proto.Clone(tpb).(*mesospb.Task), agent: id, role: role, res: res, recovered: !live, counted: !live}
		t.pb.AgentId = agentIDpb(id)
		f.tasks[tid] = t
		if !had {
			c.opTaskAdded(t)
		}
		if live {
			if r, ok := c.returnedTask(f, t, prev); ok {
				back = append(back, r)
			}
		}
	}
	for _, ex := range st.GetExecutors() {
		if f, ok := c.frameworks[ids.FrameworkID(ex.GetFrameworkId().GetValue())]; ok {
			f.addExecutor(id, ex)
		}
	}
	if readmit {
		c.loseUnreported(id, reported, now)
	}
	c.allocErr("add agent", c.alloc.AddAgent(id, allocator.AgentInfo{Hostname: info.GetHostname(), Total: total}, used))
	c.toAgent(a, "registered", &internalpb.Registered{AgentId: agentIDpb(id), MasterInfo: proto.Clone(c.info).(*mesospb.MasterInfo)})
	if resync {
		c.sendCheckpoint(a)
	}
	for _, fid := range shutdown {
		c.toAgent(a, "shutdown_framework", &internalpb.ShutdownFramework{FrameworkId: frameworkIDpb(fid)})
	}
	c.tellReturned(a, back, now)
	c.opAgentAdded(a)
	c.log.Info("agent admitted", "agent_id", id, "node", node, "addr", addr.String(), "resources", total.String())
	c.allocateSoon = true
	return id, nil
}

// loseUnreported marks the live tasks the master placed on agent id that the
// re-admitted agent does not report: they never reached it, or died with
// it. As in Mesos they are TASK_LOST (TASK_DROPPED when partition-aware),
// reliable, with REASON_AGENT_RESTARTED... for a launch that never arrived
// Mesos says REASON_TASK_INVALID; Cairn reports what is known.
func (c *core) loseUnreported(id ids.AgentID, reported map[ids.TaskID]bool, now time.Time) {
	for _, f := range c.frameworks {
		for tid, t := range f.tasks {
			if t.agent != id || reported[tid] || isTerminal(t.pb.GetState()) {
				continue
			}
			state := mesospb.TaskState_TASK_LOST
			if f.partitionAware() {
				state = mesospb.TaskState_TASK_DROPPED
			}
			st := c.masterStatusFor(f.id, tid, id, state, mesospb.TaskStatus_REASON_AGENT_RESTARTED,
				"Task not known to the agent after it re-registered", true, now)
			c.setMasterState(f, t, st)
			t.recovered = true // never counted by the new allocator session
			c.sendUpdate(f, st)
		}
	}
}

// RemoveAgent handles the loss of an agent (gossip Fail or Leave): its
// offers are rescinded, it leaves the allocator, and each of its live tasks
// is reported TASK_LOST (TASK_UNREACHABLE for partition-aware frameworks)
// with REASON_AGENT_REMOVED and a uuid. forget drops it from the registry
// (graceful leave); a failed agent stays there so it can come back.
func (c *core) RemoveAgent(id ids.AgentID, forget bool, now time.Time) {
	a, ok := c.agents[id]
	if !ok {
		return
	}
	c.dropAgent(id, now)
	for _, f := range c.sortedFrameworks() {
		for tid, t := range f.tasks {
			if t.agent != id || isTerminal(t.pb.GetState()) || t.pb.GetState() == mesospb.TaskState_TASK_UNREACHABLE {
				continue
			}
			state := lostFor(f, mesospb.TaskState_TASK_UNREACHABLE)
			if state == mesospb.TaskState_TASK_LOST {
				c.noteLostByRemoval(f.id, tid, id)
			}
			st := c.masterStatusFor(f.id, tid, id, state, mesospb.TaskStatus_REASON_AGENT_REMOVED,
				"Agent "+string(id)+" removed", true, now)
			if state == mesospb.TaskState_TASK_UNREACHABLE {
				st.UnreachableTime = &mesospb.TimeInfo{Nanoseconds: proto.Int64(now.UnixNano())}
			}
			st.ExecutorId = t.pb.ExecutorId
			c.setMasterState(f, t, st)
			t.recovered = true // the agent's resources left with it
			c.sendUpdate(f, st)
		}
	}
	if forget {
		c.forgetLostByRemoval(id)
		if err := c.reg.Apply(registry.RemoveAgent{ID: id}); err != nil {
			c.log.Error("persist agent removal", "agent_id", id, "err", err)
		}
	} else {
		c.unreachable[id] = now
	}
	c.log.Info("agent removed", "agent_id", id, "node", a.nodeName, "forget", forget)
}
