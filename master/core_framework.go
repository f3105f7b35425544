package master

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func badRequest(format string, args ...any) error {
	return &api.HTTPError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// validateFrameworkInfo checks what Mesos checks on SUBSCRIBE.
func validateFrameworkInfo(info *mesospb.FrameworkInfo) error {
	if info == nil {
		return badRequest("Expecting 'subscribe.framework_info' to be present")
	}
	if info.User == nil {
		return badRequest("Expecting 'framework_info.user' to be present")
	}
	if info.Name == nil {
		return badRequest("Expecting 'framework_info.name' to be present")
	}
	multi := hasCapability(info, mesospb.FrameworkInfo_Capability_MULTI_ROLE)
	if !multi && len(info.GetRoles()) > 0 {
		return badRequest("'FrameworkInfo.roles' is set but MULTI_ROLE capability is not")
	}
	if multi && info.Role != nil {
		return badRequest("'FrameworkInfo.role' must not be set when MULTI_ROLE capability is")
	}
	roles := info.GetRoles()
	if !multi {
		roles = []string{info.GetRole()}
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if err := resources.ValidateRole(r); err != nil {
			return badRequest("invalid role %q: %v", r, err)
		}
		if seen[r] {
			return badRequest("duplicate role %q in 'FrameworkInfo.roles'", r)
		}
		seen[r] = true
	}
	if t := info.GetFailoverTimeout(); t < 0 || t != t {
		return badRequest("invalid 'framework_info.failover_timeout' %v", t)
	}
	return nil
}

// Subscribe handles SUBSCRIBE on the new stream id. It returns the
// framework's id; an error is a 400 for the HTTP layer, before any event.
func (c *core) Subscribe(call *schedulerpb.Call, stream string, now time.Time) (ids.FrameworkID, error) {
	sub := call.GetSubscribe()
	if err := validateFrameworkInfo(sub.GetFrameworkInfo()); err != nil {
		return "", err
	}
	info := proto.Clone(sub.GetFrameworkInfo()).(*mesospb.FrameworkInfo)
	id := ids.FrameworkID(info.GetId().GetValue())
	if call.GetFrameworkId().GetValue() != string(id) {
		return "", badRequest("'framework_id' differs from 'subscribe.framework_info.id'")
	}
	for _, done := range c.completed {
		if done.id == id && id != "" {
			c.emit(sendEvent{Stream: stream, Event: errorEvent("Framework has been removed")})
			c.emit(closeStream{Stream: stream})
			return id, nil
		}
	}
	if f, ok := c.frameworks[id]; ok && id != "" {
		c.failover(f, info, stream, sub.GetSuppressedRoles(), now)
		return id, nil
	}
	next := uint64(0) // 0: the framework brought its own id
	if id == "" {
		id = c.frameworkID(c.nextFramework)
		info.Id = frameworkIDpb(id)
		next = c.nextFramework + 1
	}
	if err := c.reg.Apply(registry.AddFramework{Info: info, Registered: now, Next: next}); err != nil {
		return "", fmt.Errorf("register framework: %w", err)
	}
	if next != 0 {
		c.nextFramework = next
	}
	f := &framework{
		id: id, info: info, stream: stream, active: true, registered: now,
		tasks: map[ids.TaskID]*task{}, offers: map[ids.OfferID]bool{}, suppressed: map[string]bool{},
		executors: map[ids.AgentID]map[string]*mesospb.ExecutorInfo{},
	}
	for _, r := range sub.GetSuppressedRoles() {
		f.suppressed[r] = true
	}
	c.frameworks[id] = f
	c.allocErr("add framework", c.alloc.AddFramework(id, f.allocInfo(), nil, true))
	c.opFrameworkAdded(f)
	c.log.Info("framework subscribed", "framework_id", id, "name", info.GetName())
	c.send(f, c.subscribedEvent(f))
	c.allocateSoon = true
	return id, nil
}

// failover moves a known framework to a new stream: the old stream gets an
// ERROR and is closed; offers made on it are gone.
func (c *core) failover(f *framework, info *mesospb.FrameworkInfo, stream string, suppressed []string, now time.Time) {
	if f.stream != "" {
		c.emit(sendEvent{Stream: f.stream, Event: errorEvent("Framework failed over")})
		c.emit(closeStream{Stream: f.stream})
	}
	c.removeOffersOf(f, false, now)
	c.updateInfo(f, info, time.Time{})
	f.stream = stream
	f.reregistered = now
	f.deadline = time.Time{}
	f.suppressed = map[string]bool{}
	for _, r := range suppressed {
		f.suppressed[r] = true
	}
	c.allocErr("update framework", c.alloc.UpdateFramework(f.id, f.allocInfo()))
	if !f.active {
		f.active = true
		c.allocErr("activate framework", c.alloc.ActivateFramework(f.id))
	}
	c.opFrameworkUpdated(f)
	c.log.Info("framework resubscribed", "framework_id", f.id)
	c.send(f, c.subscribedEvent(f))
	c.allocateSoon = true
}

// updateInfo replaces f's info (keeping the id) and persists it.
func (c *core) updateInfo(f *framework, info *mesospb.FrameworkInfo, deadline time.Time) {
	info.Id = frameworkIDpb(f.id)
	f.info = info
	if err := c.reg.Apply(registry.UpdateFramework{Info: info, FailoverDeadline: deadline}); err != nil {
		c.log.Error("persist framework update", "framework_id", f.id, "err", err)
	}
	for r := range f.suppressed {
		if !slices.Contains(f.roles(), r) {
			delete(f.suppressed, r)
		}
	}
	c.allocErr("update framework", c.alloc.UpdateFramework(f.id, f.allocInfo()))
}

func (c *core) subscribedEvent(f *framework) *schedulerpb.Event {
	return &schedulerpb.Event{
		Type: schedulerpb.Event_SUBSCRIBED.Enum(),
		Subscribed: &schedulerpb.Event_Subscribed{
			FrameworkId:              frameworkIDpb(f.id),
			HeartbeatIntervalSeconds: proto.Float64(c.heartbeat.Seconds()),
			MasterInfo:               proto.Clone(c.info).(*mesospb.MasterInfo),
		},
	}
}

func errorEvent(msg string) *schedulerpb.Event {
	return &schedulerpb.Event{Type: schedulerpb.Event_ERROR.Enum(), Error: &schedulerpb.Event_Error{Message: proto.String(msg)}}
}

// StreamClosed reports that stream ended (client gone, write error or queue
// overflow). If it was the framework's current stream the framework is
// disconnected: deactivated, offers recovered, failover timer started.
func (c *core) StreamClosed(stream string, now time.Time) {
	for _, f := range c.frameworks {
		if f.stream != stream {
			continue
		}
		f.stream = ""
		f.unregistered = now
		if f.active {
			f.active = false
			c.allocErr("deactivate framework", c.alloc.DeactivateFramework(f.id))
		}
		c.removeOffersOf(f, false, now)
		timeout := time.Duration(f.info.GetFailoverTimeout() * float64(time.Second))
		f.deadline = now.Add(timeout)
		if err := c.reg.Apply(registry.UpdateFramework{Info: f.info, FailoverDeadline: f.deadline}); err != nil {
			c.log.Error("persist framework disconnect", "framework_id", f.id, "err", err)
		}
		c.log.Info("framework disconnected", "framework_id", f.id, "failover_timeout", timeout)
		c.opFrameworkUpdated(f)
		if timeout <= 0 {
			c.removeFramework(f, now)
		}
		return
	}
}

// removeFramework tears f down: its tasks are killed on their agents and
// recorded as TASK_KILLED (REASON_FRAMEWORK_REMOVED), its offers recovered,
// and it moves to the completed list.
func (c *core) removeFramework(f *framework, now time.Time) {
	c.log.Info("framework removed", "framework_id", f.id)
	if f.stream != "" {
		c.emit(closeStream{Stream: f.stream})
		f.stream = ""
	}
	c.removeOffersOf(f, false, now)
	// Agents where it runs tasks or executors must shut it down.
	agentsWithTasks := map[ids.AgentID]bool{}
	for aid, execs := range f.executors {
		if len(execs) > 0 {
			agentsWithTasks[aid] = true
		}
	}
	for tid, t := range f.tasks {
		agentsWithTasks[t.agent] = true
		if !isTerminal(t.pb.GetState()) {
			st := c.masterStatus(tid, t.agent, mesospb.TaskState_TASK_KILLED,
				mesospb.TaskStatus_REASON_FRAMEWORK_REMOVED, "Framework "+string(f.id)+" removed", false, now)
			t.pb.State = st.State
			t.pb.Statuses = append(t.pb.Statuses, st)
			c.noteState(t)
			c.opTaskUpdated(f, t, st)
		}
		c.finishTask(f, t, now)
	}
	for aid := range agentsWithTasks {
		if a, ok := c.agents[aid]; ok {
			c.toAgent(a, "shutdown_framework", &internalpb.ShutdownFramework{FrameworkId: frameworkIDpb(f.id)})
		}
	}
	c.allocErr("remove framework", c.alloc.RemoveFramework(f.id))
	delete(c.frameworks, f.id)
	f.unregistered = now
	f.active = false
	c.completed = appendBounded(c.completed, f, c.maxCompletedFrameworks)
	for u, fw := range c.masterUpdates {
		if fw == f.id {
			delete(c.masterUpdates, u) // nobody is left to acknowledge it
		}
	}
	c.opFrameworkRemoved(f)
	if err := c.reg.Apply(registry.RemoveFramework{ID: f.id}); err != nil && !errors.Is(err, registry.ErrNotFound) {
		c.log.Error("persist framework removal", "framework_id", f.id, "err", err)
	}
	c.allocateSoon = true
}

// Teardown handles TEARDOWN.
func (c *core) Teardown(f *framework, now time.Time) { c.removeFramework(f, now) }

// UpdateFramework handles UPDATE_FRAMEWORK.
func (c *core) UpdateFramework(f *framework, call *schedulerpb.Call_UpdateFramework, now time.Time) error {
	if err := validateFrameworkInfo(call.GetFrameworkInfo()); err != nil {
		return err
	}
	info := proto.Clone(call.GetFrameworkInfo()).(*mesospb.FrameworkInfo)
	if id := info.GetId().GetValue(); id != "" && id != string(f.id) {
		return badRequest("'update_framework.framework_info.id' differs from the framework's id")
	}
	if info.GetUser() != f.info.GetUser() {
		return badRequest("Updating 'FrameworkInfo.user' is unsupported")
	}
	if info.GetCheckpoint() != f.info.GetCheckpoint() {
		return badRequest("Updating 'FrameworkInfo.checkpoint' is unsupported")
	}
	c.updateInfo(f, info, f.deadline)
	if len(call.GetSuppressedRoles()) > 0 {
		c.Suppress(f, call.GetSuppressedRoles())
	}
	// Offers made to roles the framework left are taken back.
	for _, o := range c.sortedOffers() {
		if o.fw == f.id && !slices.Contains(f.roles(), o.role) {
			c.removeOffer(o, true, true, now)
		}
	}
	c.opFrameworkUpdated(f)
	c.allocateSoon = true
	return nil
}

// Suppress handles SUPPRESS; no roles means all of the framework's roles.
func (c *core) Suppress(f *framework, roles []string) {
	if len(roles) == 0 {
		roles = f.roles()
	}
	for _, r := range roles {
		f.suppressed[r] = true
	}
	c.allocErr("suppress", c.alloc.Suppress(f.id, roles))
}

// Revive handles REVIVE; no roles means all of the framework's roles.
func (c *core) Revive(f *framework, roles []string) {
	if len(roles) == 0 {
		roles = f.roles()
	}
	for _, r := range roles {
		delete(f.suppressed, r)
	}
	c.allocErr("revive", c.alloc.Revive(f.id, roles))
	c.allocateSoon = true
}

// expireFrameworks tears down disconnected frameworks whose failover
// deadline passed.
func (c *core) expireFrameworks(now time.Time) {
	for _, f := range c.frameworks {
		if f.stream == "" && !f.deadline.IsZero() && !now.Before(f.deadline) {
			c.removeFramework(f, now)
		}
	}
}
