package master

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Accept handles ACCEPT. Invalid offers turn every task into TASK_LOST (or
// TASK_DROPPED) with REASON_INVALID_OFFERS and drop every other operation;
// the resource operations (RESERVE, UNRESERVE, CREATE, DESTROY) run first,
// in order, converting the offered resources (applyResourceOps); an
// invalid task becomes TASK_ERROR with REASON_TASK_INVALID; valid tasks go
// to the agent in one run_tasks, and each task group in one of its own
// (launchGroup); what the tasks do not use goes back with the call's
// filters.
func (c *core) Accept(f *framework, acc *schedulerpb.Call_Accept, now time.Time) {
	var launches []*mesospb.TaskInfo
	var groups []*mesospb.Offer_Operation_LaunchGroup
	var groupTasks []*mesospb.TaskInfo
	for _, op := range acc.GetOperations() {
		switch op.GetType() {
		case mesospb.Offer_Operation_LAUNCH:
			launches = append(launches, op.GetLaunch().GetTaskInfos()...)
		case mesospb.Offer_Operation_LAUNCH_GROUP:
			groups = append(groups, op.GetLaunchGroup())
			groupTasks = append(groupTasks, op.GetLaunchGroup().GetTaskGroup().GetTasks()...)
		default:
			if !isResourceOp(op.GetType()) {
				c.dropOperation(f, op, "Operation "+op.GetType().String()+" is not supported")
			}
		}
	}

	offers, agentID, offerErr := c.validateOffers(f, acc.GetOfferIds())
	if offerErr != "" {
		for _, o := range offers {
			c.removeOffer(o, false, true, now)
		}
		state := mesospb.TaskState_TASK_LOST
		if f.partitionAware() {
			state = mesospb.TaskState_TASK_DROPPED
		}
		for _, ti := range append(launches, groupTasks...) {
			st := c.masterStatus(ids.TaskID(ti.GetTaskId().GetValue()), ids.AgentID(ti.GetAgentId().GetValue()),
				state, mesospb.TaskStatus_REASON_INVALID_OFFERS, offerErr, false, now)
			c.sendUpdate(f, st)
		}
		for _, op := range acc.GetOperations() {
			if isResourceOp(op.GetType()) {
				c.dropOperation(f, op, "Operation attempted with invalid offers: "+offerErr)
			}
		}
		return
	}

	// What the offers hold, by the role they were allocated to.
	available := map[string]resources.Resources{}
	for _, o := range offers {
		available[o.role] = available[o.role].Add(o.res)
		c.removeOffer(o, false, false, now)
	}
	a := c.agents[agentID]
	if c.applyResourceOps(f, a, acc.GetOperations(), available) {
		c.resourcesChanged(a)
	}

	batch := map[ids.TaskID]bool{}
	executors := map[string]bool{}
	var run []*mesospb.TaskInfo
	for _, ti := range launches {
		used, err := c.validateTask(f, ti, agentID, batch, executors, available)
		tid := ids.TaskID(ti.GetTaskId().GetValue())
		if err != nil {
			st := c.masterStatus(tid, agentID, mesospb.TaskState_TASK_ERROR,
				mesospb.TaskStatus_REASON_TASK_INVALID, err.Error(), false, now)
			c.sendUpdate(f, st)
			continue
		}
		batch[tid] = true
		role := taskRole(f, ti)
		available[role] = available[role].Subtract(used)
		c.addTask(f, a, ti, role, used, now)
		run = append(run, ti)
	}
	if len(run) > 0 {
		c.toAgent(a, "run_tasks", &internalpb.RunTasks{
			FrameworkInfo: proto.Clone(f.info).(*mesospb.FrameworkInfo),
			Tasks:         run,
		})
	}
	for _, g := range groups {
		c.launchGroup(f, a, g, batch, executors, available, now)
	}
	for role, left := range available {
		c.recover(f.id, agentID, role, left, refuseFilter(acc.GetFilters()), now)
	}
}

// validateOffers checks the offer ids of an ACCEPT and returns the valid
// offers found, their agent, and a message when any id is bad.
func (c *core) validateOffers(f *framework, offerIDs []*mesospb.OfferID) ([]*offer, ids.AgentID, string) {
	var out []*offer
	var agentID ids.AgentID
	seen := map[ids.OfferID]bool{}
	problem := ""
	if len(offerIDs) == 0 {
		problem = "No offers specified"
	}
	for _, pid := range offerIDs {
		id := ids.OfferID(pid.GetValue())
		if seen[id] {
			if problem == "" {
				problem = fmt.Sprintf("Offer %s appears more than once in the call", id)
			}
			continue
		}
		seen[id] = true
		o, ok := c.offers[id]
		switch {
		case !ok:
			if problem == "" {
				problem = fmt.Sprintf("Offer %s is no longer valid", id)
			}
			continue
		case o.fw != f.id:
			if problem == "" {
				problem = fmt.Sprintf("Offer %s has invalid framework %s while framework %s is expected", id, f.id, o.fw)
			}
			continue // not ours: leave it alone
		}
		out = append(out, o)
		if agentID == "" {
			agentID = o.agent
		} else if o.agent != agentID && problem == "" {
			problem = fmt.Sprintf("Aggregated offers must belong to one single agent. Offer %s uses agent %s and agent %s", id, o.agent, agentID)
		}
	}
	if problem == "" {
		if _, ok := c.agents[agentID]; !ok {
			problem = fmt.Sprintf("Agent %s is not registered", agentID)
		}
	}
	return out, agentID, problem
}

// validateTask checks one TaskInfo of a LAUNCH and returns the resources it
// takes from the offers (its own plus, once per batch, its executor's).
func (c *core) validateTask(f *framework, ti *mesospb.TaskInfo, agentID ids.AgentID,
	batch map[ids.TaskID]bool, executors map[string]bool, availableByRole map[string]resources.Resources) (resources.Resources, error) {
	tid := ids.TaskID(ti.GetTaskId().GetValue())
	switch {
	case tid == "":
		return resources.Resources{}, fmt.Errorf("Task has no 'task_id'")
	case ti.Name == nil:
		return resources.Resources{}, fmt.Errorf("Task %s has no 'name'", tid)
	case ti.GetAgentId().GetValue() == "":
		return resources.Resources{}, fmt.Errorf("Task %s has no 'agent_id'", tid)
	case ti.GetAgentId().GetValue() != string(agentID):
		return resources.Resources{}, fmt.Errorf("Task %s uses agent %s but the offers are for agent %s",
			tid, ti.GetAgentId().GetValue(), agentID)
	case batch[tid]:
		return resources.Resources{}, fmt.Errorf("Task %s has a duplicate ID within the batch", tid)
	case (ti.Command == nil) == (ti.Executor == nil):
		return resources.Resources{}, fmt.Errorf("Task %s should have at least one (but not both) of CommandInfo or ExecutorInfo present", tid)
	}
	if t, ok := f.tasks[tid]; ok && !isTerminal(t.pb.GetState()) {
		return resources.Resources{}, fmt.Errorf("Task %s has duplicate ID", tid)
	}
	res, err := fromProto(ti.GetResources())
	if err != nil {
		return resources.Resources{}, fmt.Errorf("Task %s uses invalid resources: %v", tid, err)
	}
	used := res
	if ex := ti.GetExecutor(); ex != nil {
		eid := ex.GetExecutorId().GetValue()
		if eid == "" {
			return resources.Resources{}, fmt.Errorf("Task %s has an executor without 'executor_id'", tid)
		}
		if fid := ex.GetFrameworkId().GetValue(); fid != "" && fid != string(f.id) {
			return resources.Resources{}, fmt.Errorf("Task %s has an executor with framework id %s, should be %s", tid, fid, f.id)
		}
		eres, err := fromProto(ex.GetResources())
		if err != nil {
			return resources.Resources{}, fmt.Errorf("Task %s has an executor with invalid resources: %v", tid, err)
		}
		if !executors[eid] && !c.executorRunning(f, agentID, eid) {
			used = used.Add(eres)
		}
		executors[eid] = true
	}
	role := taskRole(f, ti)
	if f.multiRole() && !slices.Contains(f.roles(), role) {
		return resources.Resources{}, fmt.Errorf("Task %s uses resources allocated to role %q, which the framework is not subscribed to", tid, role)
	}
	available := availableByRole[role]
	if !available.Contains(used) {
		return resources.Resources{}, fmt.Errorf("Task %s uses resources %s which are not contained in the offered resources %s",
			tid, used, available)
	}
	return used, nil
}

// taskRole is the role a task's resources are allocated to: the
// allocation_info of its resources for MULTI_ROLE frameworks, else the
// framework's role.
func taskRole(f *framework, ti *mesospb.TaskInfo) string {
	if !f.multiRole() {
		return f.roles()[0]
	}
	return resourceRole(ti.GetResources(), f.roles()[0])
}

// resourceRole is the allocation role named by resources, or def.
func resourceRole(rs []*mesospb.Resource, def string) string {
	for _, r := range rs {
		if ai := r.GetAllocationInfo(); ai != nil && ai.Role != nil {
			return ai.GetRole()
		}
	}
	return def
}

// executorRunning reports whether the framework has a live task using eid
// on the agent (its resources were accounted at its first launch).
func (c *core) executorRunning(f *framework, agentID ids.AgentID, eid string) bool {
	for _, t := range f.tasks {
		if t.agent == agentID && t.pb.GetExecutorId().GetValue() == eid && !isTerminal(t.pb.GetState()) {
			return true
		}
	}
	return false
}

// addTask records a launched task as TASK_STAGING.
func (c *core) addTask(f *framework, a *agent, ti *mesospb.TaskInfo, role string, used resources.Resources, now time.Time) {
	tid := ids.TaskID(ti.GetTaskId().GetValue())
	pb := &mesospb.Task{
		Name:        ti.Name,
		TaskId:      ti.TaskId,
		FrameworkId: frameworkIDpb(f.id),
		AgentId:     agentIDpb(a.id),
		State:       mesospb.TaskState_TASK_STAGING.Enum(),
		Resources:   ti.GetResources(),
		Labels:      ti.Labels,
		Discovery:   ti.Discovery,
		Container:   ti.Container,
		HealthCheck: ti.HealthCheck,
		KillPolicy:  ti.KillPolicy,
	}
	if ex := ti.GetExecutor(); ex != nil {
		pb.ExecutorId = ex.ExecutorId
		f.addExecutor(a.id, ex)
	}
	if cmd := ti.GetCommand(); cmd != nil && cmd.User != nil {
		pb.User = cmd.User
	} else {
		pb.User = f.info.User
	}
	if old, ok := f.tasks[tid]; ok {
		f.completed = appendBounded(f.completed, old.pb, c.maxCompletedTasks)
	}
	t := &task{pb: pb, agent: a.id, role: role, res: used}
	f.tasks[tid] = t
	c.opTaskAdded(t)
	_ = now
}

// launchGroup handles one LAUNCH_GROUP: the group is launched whole or not
// at all (every task TASK_ERROR, REASON_TASK_GROUP_INVALID), in one
// run_tasks carrying the group's executor, whose resources are taken from
// the offers once (unless that executor already runs on the agent).
func (c *core) launchGroup(f *framework, a *agent, g *mesospb.Offer_Operation_LaunchGroup, batch map[ids.TaskID]bool,
	executors map[string]bool, available map[string]resources.Resources, now time.Time) {
	tasks := g.GetTaskGroup().GetTasks()
	fail := func(msg string) {
		for _, ti := range tasks {
			st := c.masterStatus(ids.TaskID(ti.GetTaskId().GetValue()), a.id, mesospb.TaskState_TASK_ERROR,
				mesospb.TaskStatus_REASON_TASK_GROUP_INVALID, msg, false, now)
			c.sendUpdate(f, st)
		}
	}
	ex := g.GetExecutor()
	switch {
	case len(tasks) == 0:
		return
	case ex == nil || ex.GetExecutorId().GetValue() == "":
		fail("Task group has no executor with an 'executor_id'")
		return
	case ex.GetType() != mesospb.ExecutorInfo_DEFAULT:
		fail("'ExecutorInfo.type' must be 'DEFAULT' for a task group")
		return
	}
	ex = proto.Clone(ex).(*mesospb.ExecutorInfo)
	if ex.FrameworkId == nil {
		ex.FrameworkId = frameworkIDpb(f.id)
	}
	// Validate on copies: nothing is taken unless every task is valid.
	avail := maps.Clone(available)
	execs := maps.Clone(executors)
	seen := maps.Clone(batch)
	withExec := make([]*mesospb.TaskInfo, len(tasks))
	used := make([]resources.Resources, len(tasks))
	for i, ti := range tasks {
		if ti.Executor != nil {
			fail(fmt.Sprintf("Task %s in a task group must not set 'executor'", ti.GetTaskId().GetValue()))
			return
		}
		// Each task is checked as if it named the group's executor, so the
		// executor's resources count once for the group.
		te := proto.Clone(ti).(*mesospb.TaskInfo)
		te.Command, te.Executor = nil, ex
		u, err := c.validateTask(f, te, a.id, seen, execs, avail)
		if err != nil {
			fail(err.Error())
			return
		}
		seen[ids.TaskID(ti.GetTaskId().GetValue())] = true
		role := taskRole(f, ti)
		avail[role] = avail[role].Subtract(u)
		withExec[i], used[i] = te, u
	}
	maps.Copy(available, avail)
	maps.Copy(executors, execs)
	maps.Copy(batch, seen)
	for i, ti := range tasks {
		c.addTask(f, a, withExec[i], taskRole(f, ti), used[i], now)
	}
	c.toAgent(a, "run_tasks", &internalpb.RunTasks{
		FrameworkInfo: proto.Clone(f.info).(*mesospb.FrameworkInfo),
		Tasks:         tasks,
		ExecutorInfo:  ex,
	})
}
