package master

import (
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Events for the operator SUBSCRIBE stream. Each is built only while an
// operator listens (c.watchers > 0), so a master nobody watches pays
// nothing.

func (c *core) opEmit(ev *masterpb.Event) { c.emit(operatorEvent{Event: ev}) }

func (c *core) opTaskAdded(t *task) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:      masterpb.Event_TASK_ADDED.Enum(),
		TaskAdded: &masterpb.Event_TaskAdded{Task: proto.Clone(t.pb).(*mesospb.Task)},
	})
}

func (c *core) opTaskUpdated(f *framework, t *task, st *mesospb.TaskStatus) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type: masterpb.Event_TASK_UPDATED.Enum(),
		TaskUpdated: &masterpb.Event_TaskUpdated{
			FrameworkId: frameworkIDpb(f.id),
			Status:      proto.Clone(st).(*mesospb.TaskStatus),
			State:       t.pb.GetState().Enum(),
		},
	})
}

func (c *core) opAgentAdded(a *agent) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:       masterpb.Event_AGENT_ADDED.Enum(),
		AgentAdded: &masterpb.Event_AgentAdded{Agent: c.viewAgent(a)},
	})
}

func (c *core) opAgentRemoved(id ids.AgentID) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:         masterpb.Event_AGENT_REMOVED.Enum(),
		AgentRemoved: &masterpb.Event_AgentRemoved{AgentId: agentIDpb(id)},
	})
}

func (c *core) opFrameworkAdded(f *framework) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:           masterpb.Event_FRAMEWORK_ADDED.Enum(),
		FrameworkAdded: &masterpb.Event_FrameworkAdded{Framework: c.viewFramework(f, true)},
	})
}

func (c *core) opFrameworkUpdated(f *framework) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:             masterpb.Event_FRAMEWORK_UPDATED.Enum(),
		FrameworkUpdated: &masterpb.Event_FrameworkUpdated{Framework: c.viewFramework(f, true)},
	})
}

func (c *core) opFrameworkRemoved(f *framework) {
	if c.watchers == 0 {
		return
	}
	c.opEmit(&masterpb.Event{
		Type:             masterpb.Event_FRAMEWORK_REMOVED.Enum(),
		FrameworkRemoved: &masterpb.Event_FrameworkRemoved{FrameworkInfo: proto.Clone(f.info).(*mesospb.FrameworkInfo)},
	})
}
