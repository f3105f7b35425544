package master

import (
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Framework ↔ executor messages and executor exits. Messages are best
// effort both ways, as in Mesos: never retried, dropped when the other side
// is not there.

// Message handles the scheduler's MESSAGE: relayed once to the agent, which
// hands it to the executor.
func (c *core) Message(f *framework, m *schedulerpb.Call_Message) {
	a, ok := c.agents[ids.AgentID(m.GetAgentId().GetValue())]
	if !ok {
		c.counters.invalidFrameworkMessages++
		c.log.Debug("framework message for an unknown agent dropped", "framework_id", f.id, "agent_id", m.GetAgentId().GetValue())
		return
	}
	c.counters.validFrameworkMessages++
	c.toAgentOnce(a, "framework_message", &internalpb.FrameworkToExecutor{
		FrameworkId: frameworkIDpb(f.id),
		ExecutorId:  m.GetExecutorId(),
		Data:        append([]byte{}, m.GetData()...),
	})
}

// ExecutorMessage relays an executor's message to its framework as a
// MESSAGE event.
func (c *core) ExecutorMessage(em *internalpb.ExecutorToFramework) {
	f, ok := c.frameworks[ids.FrameworkID(em.GetFrameworkId().GetValue())]
	if !ok || f.stream == "" {
		c.counters.invalidExecutorMessages++
		return
	}
	c.counters.validExecutorMessages++
	c.send(f, &schedulerpb.Event{
		Type: schedulerpb.Event_MESSAGE.Enum(),
		Message: &schedulerpb.Event_Message{
			AgentId:    em.GetAgentId(),
			ExecutorId: em.GetExecutorId(),
			Data:       append([]byte{}, em.GetData()...),
		},
	})
}

// ExecutorExited tells the framework an executor ended: FAILURE with
// agent_id, executor_id and the wait status, as Mesos sends.
func (c *core) ExecutorExited(ee *internalpb.ExecutorExited) {
	f, ok := c.frameworks[ids.FrameworkID(ee.GetFrameworkId().GetValue())]
	if !ok {
		return
	}
	aid := ids.AgentID(ee.GetAgentId().GetValue())
	if m := f.executors[aid]; m != nil {
		delete(m, ee.GetExecutorId().GetValue())
	}
	ev := &schedulerpb.Event{
		Type: schedulerpb.Event_FAILURE.Enum(),
		Failure: &schedulerpb.Event_Failure{
			AgentId:    ee.GetAgentId(),
			ExecutorId: ee.GetExecutorId(),
		},
	}
	if ee.Status != nil {
		ev.Failure.Status = proto.Int32(ee.GetStatus())
	}
	c.send(f, ev)
}

// addExecutor remembers an executor the framework runs on an agent.
func (f *framework) addExecutor(aid ids.AgentID, ex *mesospb.ExecutorInfo) {
	m := f.executors[aid]
	if m == nil {
		m = map[string]*mesospb.ExecutorInfo{}
		f.executors[aid] = m
	}
	if _, ok := m[ex.GetExecutorId().GetValue()]; !ok {
		info := proto.Clone(ex).(*mesospb.ExecutorInfo)
		if info.FrameworkId == nil {
			info.FrameworkId = frameworkIDpb(f.id)
		}
		m[ex.GetExecutorId().GetValue()] = info
	}
}
