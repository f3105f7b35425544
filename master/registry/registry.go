package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Registry is the master's durable state, held in memory and mirrored to
// one file.
type Registry struct {
	path string

	mu    sync.Mutex
	state *State
}

// Open loads <dir>/registry.pb, creating dir if needed; a missing file is an
// empty registry. Temporary files left by a crash during a write are removed.
func Open(dir string) (*Registry, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create registry dir: %w", err)
	}
	stale, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp-*"))
	for _, f := range stale {
		// The rename never happened, so the real file is intact.
		os.Remove(f)
	}
	path := filepath.Join(dir, FileName)
	st, err := load(path)
	if err != nil {
		return nil, err
	}
	return &Registry{path: path, state: st}, nil
}

// Path is the registry file.
func (r *Registry) Path() string { return r.path }

// State returns a deep copy of the current state.
func (r *Registry) State() *State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return proto.Clone(r.state).(*State)
}

// Op is one change to the registry.
type Op interface {
	apply(*State) error
}

// ErrNotFound is wrapped by operations on an unknown agent or framework.
var ErrNotFound = errors.New("not found")

// Apply applies op and makes the result durable before returning. On error
// the in-memory state is unchanged.
func (r *Registry) Apply(op Op) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := proto.Clone(r.state).(*State)
	if err := op.apply(next); err != nil {
		return err
	}
	if err := store(r.path, next); err != nil {
		return fmt.Errorf("persist registry: %w", err)
	}
	r.state = next
	return nil
}

// AdmitAgent records an agent, or replaces the record of an agent with the
// same id (re-admission after a restart). Next, when non-zero, is the
// sequence number for the next agent id (the master made this one from
// Next-1); the registry keeps the highest it was given.
type AdmitAgent struct {
	Info          *mesospb.AgentInfo
	GossipAddress string
	Admitted      time.Time
	Next          uint64
}

func (o AdmitAgent) apply(st *State) error {
	id := o.Info.GetId().GetValue()
	if id == "" {
		return errors.New("admit agent: agent id is empty")
	}
	rec := &Agent{
		Info:          proto.Clone(o.Info).(*mesospb.AgentInfo),
		GossipAddress: proto.String(o.GossipAddress),
		AdmittedNs:    proto.Int64(o.Admitted.UnixNano()),
	}
	if i := agentIndex(st, ids.AgentID(id)); i >= 0 {
		st.Agents[i] = rec
	} else {
		st.Agents = append(st.Agents, rec)
	}
	if o.Next > st.GetNextAgent() {
		st.NextAgent = proto.Uint64(o.Next)
	}
	return nil
}

// RemoveAgent forgets an agent.
type RemoveAgent struct{ ID ids.AgentID }

func (o RemoveAgent) apply(st *State) error {
	i := agentIndex(st, o.ID)
	if i < 0 {
		return fmt.Errorf("remove agent %s: %w", o.ID, ErrNotFound)
	}
	st.Agents = append(st.Agents[:i], st.Agents[i+1:]...)
	return nil
}

// AddFramework records a new framework; Info.id must be set. Next as in
// AdmitAgent, for framework ids.
type AddFramework struct {
	Info       *mesospb.FrameworkInfo
	Registered time.Time
	Next       uint64
}

func (o AddFramework) apply(st *State) error {
	id := ids.FrameworkID(o.Info.GetId().GetValue())
	if id == "" {
		return errors.New("add framework: framework id is empty")
	}
	if frameworkIndex(st, id) >= 0 {
		return fmt.Errorf("add framework %s: already registered", id)
	}
	st.Frameworks = append(st.Frameworks, &Framework{
		Info:         proto.Clone(o.Info).(*mesospb.FrameworkInfo),
		RegisteredNs: proto.Int64(o.Registered.UnixNano()),
	})
	if o.Next > st.GetNextFramework() {
		st.NextFramework = proto.Uint64(o.Next)
	}
	return nil
}

// UpdateFramework replaces a framework's info and failover deadline (zero:
// connected, no deadline).
type UpdateFramework struct {
	Info             *mesospb.FrameworkInfo
	FailoverDeadline time.Time
}

func (o UpdateFramework) apply(st *State) error {
	id := ids.FrameworkID(o.Info.GetId().GetValue())
	i := frameworkIndex(st, id)
	if i < 0 {
		return fmt.Errorf("update framework %s: %w", id, ErrNotFound)
	}
	f := st.Frameworks[i]
	f.Info = proto.Clone(o.Info).(*mesospb.FrameworkInfo)
	f.FailoverDeadlineNs = nil
	if !o.FailoverDeadline.IsZero() {
		f.FailoverDeadlineNs = proto.Int64(o.FailoverDeadline.UnixNano())
	}
	return nil
}

// RemoveFramework forgets a framework (torn down).
type RemoveFramework struct{ ID ids.FrameworkID }

func (o RemoveFramework) apply(st *State) error {
	i := frameworkIndex(st, o.ID)
	if i < 0 {
		return fmt.Errorf("remove framework %s: %w", o.ID, ErrNotFound)
	}
	st.Frameworks = append(st.Frameworks[:i], st.Frameworks[i+1:]...)
	return nil
}

func agentIndex(st *State, id ids.AgentID) int {
	for i, a := range st.Agents {
		if a.GetInfo().GetId().GetValue() == string(id) {
			return i
		}
	}
	return -1
}

func frameworkIndex(st *State, id ids.FrameworkID) int {
	for i, f := range st.Frameworks {
		if f.GetInfo().GetId().GetValue() == string(id) {
			return i
		}
	}
	return -1
}

// Time helpers for the stored nanosecond fields.

// AdmittedTime is when the agent was (last) admitted.
func (a *Agent) AdmittedTime() time.Time { return time.Unix(0, a.GetAdmittedNs()) }

// RegisteredTime is when the framework first subscribed.
func (f *Framework) RegisteredTime() time.Time { return time.Unix(0, f.GetRegisteredNs()) }

// FailoverDeadline is when a disconnected framework is torn down; zero when
// connected.
func (f *Framework) FailoverDeadline() time.Time {
	if f.FailoverDeadlineNs == nil {
		return time.Time{}
	}
	return time.Unix(0, f.GetFailoverDeadlineNs())
}
