package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/agent/task"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// tickInterval is how often the loop checks executor deadlines and status
// update retries; both are coarse (seconds), so this only bounds lateness.
const tickInterval = 100 * time.Millisecond

// errStopped answers requests that arrive while the agent shuts down.
var errStopped = errors.New("agent is shutting down")

// state is everything the loop goroutine owns. Nothing else touches it.
type state struct {
	agentID    ids.AgentID
	masterInfo *mesospb.MasterInfo
	frameworks map[ids.FrameworkID]*framework
	sum        *statusupdate.Manager
	stopping   bool
	// registered: the master admitted this agent process; status updates
	// wait for it, as Mesos's status update manager is paused until the
	// agent (re-)registers.
	registered bool
	// recovering: executors restored from checkpoints have yet to
	// re-subscribe (or time out); recoveryStart is when recovery began.
	recovering    bool
	recoveryStart time.Time

	// Since this agent process started, for /metrics/snapshot: terminal
	// updates by state (first copy of each), and containers that failed
	// to launch.
	terminal     map[mesospb.TaskState]uint64
	launchErrors uint64
}

type framework struct {
	info         *mesospb.FrameworkInfo
	executors    map[ids.ExecutorID]*executor
	shuttingDown bool // ShutdownFramework: updates will never be acknowledged
}

// executor is the shell's record of one executor: the pure core plus what
// the shell needs to act for it.
type executor struct {
	core      *task.Executor
	info      *mesospb.ExecutorInfo
	container ids.ContainerID
	sandbox   string
	memLimit  string  // "requested 64MB" style text for OOM messages
	cpus      float64 // the container's cpu limit, for statistics
	command   bool    // Cairn's command executor runs the task

	// checkpoint: the framework checkpoints, so this executor's run, tasks
	// and updates are on disk under ref, and it outlives the agent.
	checkpoint bool
	ref        checkpoint.RunRef

	launched         bool // Launch returned successfully
	destroyRequested bool // a Destroy effect came before Launch returned
	exited           bool

	stream *execStream // current SUBSCRIBE stream, nil when none
}

// execStream is one SUBSCRIBE connection: the loop queues events, the
// handler goroutine writes them.
type execStream struct {
	events chan *executorpb.Event
	closed chan struct{}
}

func (s *execStream) close() {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
}

// send queues ev without blocking; a stream that cannot keep up is closed
// (the executor re-subscribes).
func (s *execStream) send(ev *executorpb.Event) bool {
	select {
	case <-s.closed:
		return false
	default:
	}
	select {
	case s.events <- ev:
		return true
	default:
		s.close()
		return false
	}
}

func (a *Agent) newState() (*state, error) {
	st := &state{
		frameworks: map[ids.FrameworkID]*framework{},
		terminal:   map[mesospb.TaskState]uint64{},
		sum:        statusupdate.New(statusupdate.Config{RetryMin: a.cfg.StatusUpdateRetryMin, RetryMax: a.cfg.StatusUpdateRetryMax}),
	}
	id, err := readAgentID(a.cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	st.agentID = id
	return st, nil
}

// loop is the one goroutine that owns state.
func (a *Agent) loop(ctx context.Context, st *state) {
	defer close(a.stop)
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-a.cmds:
			fn(st)
		case now := <-t.C:
			a.tick(st, now)
		}
	}
}

// do runs fn on the loop and waits for it; errStopped when the loop ended.
func (a *Agent) do(ctx context.Context, fn func(*state)) error {
	done := make(chan struct{})
	select {
	case a.cmds <- func(st *state) { fn(st); close(done) }:
	case <-a.stop:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-a.stop:
		return errStopped
	}
}

// post runs fn on the loop without waiting for it to finish (from the
// agent's goroutines); false when the loop has ended.
func (a *Agent) post(fn func(*state)) bool {
	select {
	case a.cmds <- fn:
		return true
	case <-a.stop:
		return false
	}
}

// goBG runs fn in a goroutine the agent waits for before Run returns.
func (a *Agent) goBG(fn func()) {
	a.wg.Add(1)
	go func() { defer a.wg.Done(); fn() }()
}

func (a *Agent) tick(st *state, now time.Time) {
	for _, fw := range st.frameworks {
		for _, e := range fw.executors {
			a.apply(st, fw, e, e.core.Tick(now))
		}
	}
	a.flushUpdates(st, now)
	a.recoveryDone(st)
}

// findExecutor looks an executor up by framework and id.
func (st *state) findExecutor(fw ids.FrameworkID, id ids.ExecutorID) (*framework, *executor) {
	f := st.frameworks[fw]
	if f == nil {
		return nil, nil
	}
	return f, f.executors[id]
}

// findTask finds the executor of a task (nil when unknown).
func (st *state) findTask(fw ids.FrameworkID, id ids.TaskID) (*framework, *executor) {
	f := st.frameworks[fw]
	if f == nil {
		return nil, nil
	}
	for _, e := range f.executors {
		if e.core.Task(id) != nil {
			return f, e
		}
	}
	return f, nil
}

// allocated sums the resources of every task without a terminal update.
func (st *state) allocated() resources.Resources {
	var sum resources.Resources
	for _, f := range st.frameworks {
		for _, e := range f.executors {
			for _, t := range e.core.Tasks() {
				if !t.Reported {
					r, err := resources.FromProto(t.Info.GetResources())
					if err == nil {
						sum = sum.Add(r)
					}
				}
			}
		}
	}
	return sum
}

// newUUID returns 16 random bytes (a v4 UUID).
func newUUID() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return b
}

func newContainerID() ids.ContainerID {
	b := newUUID()
	return ids.ContainerID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}

// readAgentID returns the id persisted by an earlier run, "" when none.
func readAgentID(workDir string) (ids.AgentID, error) {
	b, err := os.ReadFile(filepath.Join(workDir, "meta", "agent_id"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read agent id: %w", err)
	}
	return ids.AgentID(strings.TrimSpace(string(b))), nil
}

// writeAgentID persists id atomically so a restarted agent reuses it.
func writeAgentID(workDir string, id ids.AgentID) error {
	dir := filepath.Join(workDir, "meta")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create meta dir: %w", err)
	}
	tmp := filepath.Join(dir, ".agent_id.tmp")
	if err := os.WriteFile(tmp, []byte(string(id)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write agent id: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "agent_id")); err != nil {
		return fmt.Errorf("write agent id: %w", err)
	}
	return nil
}
