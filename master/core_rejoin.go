package master

import (
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Tasks that come back with an agent the master declared lost. The
// framework was told they were gone (TASK_LOST, or TASK_UNREACHABLE when it
// is partition-aware), so re-admitting them silently would leave it with a
// wrong picture. As in Mesos: a framework that is not partition-aware
// believes TASK_LOST is final, so the task is killed and its TASK_KILLED
// flows from the agent as usual; a partition-aware one is told the task's
// current state, so it learns the task is back.

type taskKey struct {
	fw   ids.FrameworkID
	task ids.TaskID
}

// returned is a live task the agent reported that its framework was told
// is gone.
type returned struct {
	f    *framework
	t    *task
	kill bool // not partition-aware: kill it; otherwise send its state
}

func (c *core) noteLostByRemoval(fw ids.FrameworkID, tid ids.TaskID, aid ids.AgentID) {
	if c.lostByRemoval == nil {
		c.lostByRemoval = map[taskKey]ids.AgentID{}
	}
	c.lostByRemoval[taskKey{fw, tid}] = aid
}

// forgetLostByRemoval drops the entries of an agent that will not return.
func (c *core) forgetLostByRemoval(aid ids.AgentID) {
	for k, a := range c.lostByRemoval {
		if a == aid {
			delete(c.lostByRemoval, k)
		}
	}
}

// returnedTask decides whether the live task t, just reported by a
// (re-)admitted agent, was reported gone to its framework; prev is the
// master's record before the report (nil when already forgotten, after the
// framework acknowledged its TASK_LOST). The lost record is consumed.
func (c *core) returnedTask(f *framework, t *task, prev *task) (returned, bool) {
	key := taskKey{f.id, ids.TaskID(t.pb.GetTaskId().GetValue())}
	if _, lost := c.lostByRemoval[key]; lost {
		delete(c.lostByRemoval, key)
		if !f.partitionAware() {
			return returned{f: f, t: t, kill: true}, true
		}
	}
	if prev != nil && prev.pb.GetState() == mesospb.TaskState_TASK_UNREACHABLE {
		return returned{f: f, t: t}, true
	}
	return returned{}, false
}

// tellReturned kills or announces returned tasks (after the agent has been
// told it is registered, so that it takes the kills).
func (c *core) tellReturned(a *agent, back []returned, now time.Time) {
	for _, r := range back {
		tid := ids.TaskID(r.t.pb.GetTaskId().GetValue())
		if r.kill {
			c.log.Info("killing a task its framework was told is lost", "agent_id", a.id,
				"framework_id", r.f.id, "task_id", tid)
			c.toAgent(a, "kill_task", &internalpb.KillTask{FrameworkId: frameworkIDpb(r.f.id), TaskId: r.t.pb.TaskId})
			continue
		}
		st := c.masterStatusFor(r.f.id, tid, a.id, r.t.pb.GetState(), mesospb.TaskStatus_REASON_AGENT_REREGISTERED,
			"Agent "+string(a.id)+" reregistered", true, now)
		st.ExecutorId = r.t.pb.ExecutorId
		c.setMasterState(r.f, r.t, st)
		c.sendUpdate(r.f, st)
	}
}
