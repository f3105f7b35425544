package master

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Allocator is what the core needs from master/allocator (whose
// *allocator.Allocator implements it): a pure policy object, called only
// from the state loop. Errors mean the master and the allocator disagree
// about what exists; they are logged.
type Allocator interface {
	AddAgent(id ids.AgentID, info allocator.AgentInfo, used []allocator.Allocation) error
	RemoveAgent(id ids.AgentID) error
	AddFramework(id ids.FrameworkID, info allocator.FrameworkInfo, used []allocator.Allocation, active bool) error
	UpdateFramework(id ids.FrameworkID, info allocator.FrameworkInfo) error
	RemoveFramework(id ids.FrameworkID) error
	ActivateFramework(id ids.FrameworkID) error
	DeactivateFramework(id ids.FrameworkID) error
	Suppress(id ids.FrameworkID, roles []string) error
	Revive(id ids.FrameworkID, roles []string) error
	Recover(al allocator.Allocation, filter *allocator.Filter, now time.Time) error
	Allocate(now time.Time) []allocator.Allocation

	Agent(id ids.AgentID) (allocator.AgentStatus, bool)
	ActivateAgent(id ids.AgentID) error
	DeactivateAgent(id ids.AgentID) error
	UpdateAvailable(id ids.AgentID, ops []allocator.Operation) error
	UpdateWeights(weights map[string]float64) error
	Weights() map[string]float64
	UpdateQuota(configs []allocator.QuotaConfig, force bool) error
	Quotas() []allocator.QuotaConfig
	QuotaRescinds(offers []allocator.Allocation) []allocator.Allocation
	Roles() []allocator.RoleStatus
	Stats() allocator.Stats
}

// Registrar is the durable store (master/registry).
type Registrar interface {
	Apply(op registry.Op) error
}

// Effects the core asks the shell to perform.

// sendEvent queues ev on a framework's stream.
type sendEvent struct {
	Stream string
	Event  *schedulerpb.Event
}

// closeStream ends a framework's stream (after the events queued before it).
type closeStream struct{ Stream string }

// toAgent queues a message on an agent's ordered sender; Path is the
// internal endpoint ("run_tasks", "kill_task", ...). BestEffort messages
// (framework messages) are tried once.
type toAgent struct {
	Agent      ids.AgentID
	Addr       netip.AddrPort
	Path       string
	Msg        proto.Message
	BestEffort bool
}

// operatorEvent goes to every operator SUBSCRIBE stream.
type operatorEvent struct{ Event *masterpb.Event }

// core is the master's state and decisions. It does no I/O of its own except
// through Registrar (durable before acknowledging), reads no clock (now is
// passed in) and is used from one goroutine.
type core struct {
	log       *slog.Logger
	info      *mesospb.MasterInfo
	masterID  ids.MasterID
	alloc     Allocator
	reg       Registrar
	heartbeat time.Duration
	offerTTL  time.Duration // 0: offers never expire

	maxCompletedFrameworks int
	maxCompletedTasks      int

	frameworks map[ids.FrameworkID]*framework
	completed  []*framework // torn down, newest last
	agents     map[ids.AgentID]*agent
	offers     map[ids.OfferID]*offer

	nextFramework uint64
	nextAgent     uint64
	nextOffer     uint64

	// watchers counts operator SUBSCRIBE streams; operator events are only
	// built while someone listens.
	watchers int
	// recovered agents are in the registry but not admitted since this
	// master started; unreachable ones failed (gossip) and may come back;
	// gone ones were marked gone by an operator and are refused.
	recovered   map[ids.AgentID]*mesospb.AgentInfo
	unreachable map[ids.AgentID]time.Time
	gone        map[ids.AgentID]bool
	// lostByRemoval remembers the tasks RemoveAgent reported TASK_LOST to
	// frameworks that are not partition-aware, with their agent: if the
	// agent comes back still running one, the master kills it (Mesos), as
	// the framework was already told it is gone. Lazily created.
	lostByRemoval map[taskKey]ids.AgentID
	// terminal counts tasks that reached each terminal state (the
	// master/tasks_<state> counters).
	terminal map[mesospb.TaskState]uint64
	counters counters

	effects       []any
	allocateSoon  bool // resources were freed or added: allocate this loop pass
	newUUID       func() []byte
	masterUpdates map[string]ids.FrameworkID // uuids of master-made updates (acks swallowed) → framework
}

// counters are the master's cumulative message counters (metrics).
type counters struct {
	validFrameworkMessages, invalidFrameworkMessages uint64
	validExecutorMessages, invalidExecutorMessages   uint64
	validStatusUpdates, invalidStatusUpdates         uint64
}

type framework struct {
	id           ids.FrameworkID
	info         *mesospb.FrameworkInfo
	stream       string // current stream id; "" while disconnected
	active       bool
	registered   time.Time
	reregistered time.Time
	unregistered time.Time
	deadline     time.Time // failover deadline while disconnected
	tasks        map[ids.TaskID]*task
	completed    []*mesospb.Task // terminal tasks, newest last
	offers       map[ids.OfferID]bool
	suppressed   map[string]bool
	// executors the framework launched (TaskInfo.executor), by agent.
	executors map[ids.AgentID]map[string]*mesospb.ExecutorInfo
}

type task struct {
	pb        *mesospb.Task
	agent     ids.AgentID
	role      string // the role its resources were allocated to
	res       resources.Resources
	recovered bool // resources returned to the allocator
	counted   bool // counted in core.terminal
}

type agent struct {
	id         ids.AgentID
	info       *mesospb.AgentInfo
	addr       netip.AddrPort // HTTP
	gossipAddr string
	nodeName   string
	total      resources.Resources
	registered time.Time
	version    string
	active     bool // false while deactivated or draining
	draining   bool
	// idGossiped: its gossip record has carried the id it was given, so
	// the registered message arrived; a record without it now means the
	// agent restarted.
	idGossiped bool
}

type offer struct {
	pb      *mesospb.Offer
	id      ids.OfferID
	fw      ids.FrameworkID
	agent   ids.AgentID
	role    string
	res     resources.Resources
	expires time.Time
}

func (c *core) emit(e any) { c.effects = append(c.effects, e) }

// take returns and clears the effects collected so far.
func (c *core) take() []any {
	e := c.effects
	c.effects = nil
	return e
}

func (f *framework) roles() []string {
	if hasCapability(f.info, mesospb.FrameworkInfo_Capability_MULTI_ROLE) {
		if len(f.info.GetRoles()) > 0 {
			return append([]string(nil), f.info.GetRoles()...)
		}
		return []string{"*"}
	}
	return []string{f.info.GetRole()}
}

// allocInfo is what the allocator knows of f.
func (f *framework) allocInfo() allocator.FrameworkInfo {
	sup := make([]string, 0, len(f.suppressed))
	for r := range f.suppressed {
		sup = append(sup, r)
	}
	slices.Sort(sup)
	return allocator.FrameworkInfo{
		Roles:           f.roles(),
		SuppressedRoles: sup,
		Capabilities: allocator.Capabilities{
			GPUResources: hasCapability(f.info, mesospb.FrameworkInfo_Capability_GPU_RESOURCES),
		},
	}
}

// recover gives resources back to the allocator; a nil filter refuses
// nothing.
func (c *core) recover(fw ids.FrameworkID, agent ids.AgentID, role string, res resources.Resources,
	filter *allocator.Filter, now time.Time) {
	if res.IsEmpty() {
		return
	}
	al := allocator.Allocation{Framework: fw, Agent: agent, Role: role, Resources: res}
	if err := c.alloc.Recover(al, filter, now); err != nil {
		c.log.Debug("allocator recover", "framework_id", fw, "agent_id", agent, "err", err)
	}
	c.allocateSoon = true
}

// allocErr logs an allocator error: the master and the allocator disagree
// on what exists, which is a bug but not a reason to stop.
func (c *core) allocErr(action string, err error) {
	if err != nil {
		c.log.Warn("allocator rejected an event", "action", action, "err", err)
	}
}

func (f *framework) multiRole() bool {
	return hasCapability(f.info, mesospb.FrameworkInfo_Capability_MULTI_ROLE)
}

func (f *framework) partitionAware() bool {
	return hasCapability(f.info, mesospb.FrameworkInfo_Capability_PARTITION_AWARE)
}

func hasCapability(info *mesospb.FrameworkInfo, t mesospb.FrameworkInfo_Capability_Type) bool {
	for _, c := range info.GetCapabilities() {
		if c.GetType() == t {
			return true
		}
	}
	return false
}

func isTerminal(s mesospb.TaskState) bool {
	switch s {
	case mesospb.TaskState_TASK_FINISHED, mesospb.TaskState_TASK_FAILED,
		mesospb.TaskState_TASK_KILLED, mesospb.TaskState_TASK_ERROR,
		mesospb.TaskState_TASK_LOST, mesospb.TaskState_TASK_DROPPED,
		mesospb.TaskState_TASK_GONE, mesospb.TaskState_TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}

func frameworkIDpb(id ids.FrameworkID) *mesospb.FrameworkID {
	return &mesospb.FrameworkID{Value: proto.String(string(id))}
}

func agentIDpb(id ids.AgentID) *mesospb.AgentID {
	return &mesospb.AgentID{Value: proto.String(string(id))}
}

func taskIDpb(id ids.TaskID) *mesospb.TaskID {
	return &mesospb.TaskID{Value: proto.String(string(id))}
}

func timestamp(now time.Time) *float64 {
	return proto.Float64(float64(now.UnixNano()) / 1e9)
}

// send queues an event for fw if it is connected.
func (c *core) send(f *framework, ev *schedulerpb.Event) {
	if f.stream != "" {
		c.emit(sendEvent{Stream: f.stream, Event: ev})
	}
}

// sendUpdate forwards a status to f in the states it understands: a
// framework without PARTITION_AWARE gets TASK_LOST for every state it does
// not know (as Mesos does); the uuid is kept, so its acknowledgement still
// matches.
func (c *core) sendUpdate(f *framework, st *mesospb.TaskStatus) {
	if f.stream == "" {
		return
	}
	if !f.partitionAware() && partitionState(st.GetState()) {
		st = proto.Clone(st).(*mesospb.TaskStatus)
		st.State = mesospb.TaskState_TASK_LOST.Enum()
	}
	c.send(f, updateEvent(st))
}

// partitionState: the states only PARTITION_AWARE frameworks receive.
func partitionState(s mesospb.TaskState) bool {
	switch s {
	case mesospb.TaskState_TASK_DROPPED, mesospb.TaskState_TASK_UNREACHABLE, mesospb.TaskState_TASK_GONE,
		mesospb.TaskState_TASK_GONE_BY_OPERATOR, mesospb.TaskState_TASK_UNKNOWN:
		return true
	}
	return false
}

// lostFor is the state a master-made "the task is gone" update has for f:
// aware for PARTITION_AWARE frameworks, TASK_LOST for the others.
func lostFor(f *framework, aware mesospb.TaskState) mesospb.TaskState {
	if f.partitionAware() {
		return aware
	}
	return mesospb.TaskState_TASK_LOST
}
func updateEvent(st *mesospb.TaskStatus) *schedulerpb.Event {
	return &schedulerpb.Event{
		Type:   schedulerpb.Event_UPDATE.Enum(),
		Update: &schedulerpb.Event_Update{Status: st},
	}
}

// masterStatus builds a status the master makes itself (never from an
// agent): SOURCE_MASTER, with a uuid when reliable.
func (c *core) masterStatus(tid ids.TaskID, aid ids.AgentID, state mesospb.TaskState,
	reason mesospb.TaskStatus_Reason, msg string, reliable bool, now time.Time) *mesospb.TaskStatus {
	return c.masterStatusFor("", tid, aid, state, reason, msg, reliable, now)
}

// masterStatusFor is masterStatus for a reliable update to framework fw,
// whose acknowledgement the master will swallow.
func (c *core) masterStatusFor(fw ids.FrameworkID, tid ids.TaskID, aid ids.AgentID, state mesospb.TaskState,
	reason mesospb.TaskStatus_Reason, msg string, reliable bool, now time.Time) *mesospb.TaskStatus {
	st := &mesospb.TaskStatus{
		TaskId:    taskIDpb(tid),
		State:     state.Enum(),
		Source:    mesospb.TaskStatus_SOURCE_MASTER.Enum(),
		Reason:    reason.Enum(),
		Timestamp: timestamp(now),
	}
	if msg != "" {
		st.Message = proto.String(msg)
	}
	if aid != "" {
		st.AgentId = agentIDpb(aid)
	}
	if reliable {
		st.Uuid = c.newUUID()
		c.masterUpdates[string(st.Uuid)] = fw
	}
	return st
}

func (c *core) toAgent(a *agent, path string, msg proto.Message) {
	c.emit(toAgent{Agent: a.id, Addr: a.addr, Path: path, Msg: msg})
}

// toAgentOnce sends a best-effort message (tried once, never retried).
func (c *core) toAgentOnce(a *agent, path string, msg proto.Message) {
	c.emit(toAgent{Agent: a.id, Addr: a.addr, Path: path, Msg: msg, BestEffort: true})
}

func (c *core) frameworkID(seq uint64) ids.FrameworkID {
	return ids.FrameworkID(fmt.Sprintf("%s-%04d", c.masterID, seq))
}

// appendBounded appends t to list, dropping the oldest beyond max.
func appendBounded[T any](list []T, t T, max int) []T {
	list = append(list, t)
	if max >= 0 && len(list) > max {
		list = list[len(list)-max:]
	}
	return list
}
