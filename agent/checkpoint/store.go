package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Version names the format of a meta directory. A work dir written by an
// agent with another format is refused at start rather than misread.
const Version = "cairn-agent-checkpoint/1"

// ErrVersion is returned by Open for a meta directory of another format.
var ErrVersion = errors.New("incompatible checkpoint version")

// Store writes the checkpoints of one meta directory.
type Store struct {
	fs  FS
	dir string
}

// Open prepares the meta directory dir (creating it and its version file
// for a new work dir) and refuses one whose version file names another
// format.
func Open(dir string, fsys FS) (*Store, error) {
	if fsys == nil {
		fsys = OS{}
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("create meta directory: %w", err)
	}
	vpath := filepath.Join(dir, "version")
	b, err := fsys.ReadFile(vpath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := writeAtomic(fsys, vpath, []byte(Version+"\n")); err != nil {
			return nil, fmt.Errorf("write %s: %w", vpath, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", vpath, err)
	case strings.TrimSpace(string(b)) != Version:
		return nil, fmt.Errorf("%s says %q, this agent reads %q: the work dir comes from an incompatible agent version "+
			"(move it away, or start with another --work_dir): %w", vpath, strings.TrimSpace(string(b)), Version, ErrVersion)
	}
	return &Store{fs: fsys, dir: dir}, nil
}

// Dir is the meta directory.
func (s *Store) Dir() string { return s.dir }

// RunRef names one run (container) of an executor.
type RunRef struct {
	Agent     ids.AgentID
	Framework ids.FrameworkID
	Executor  ids.ExecutorID
	Container ids.ContainerID
}

// RunInfo is what the agent needs about a container beyond Mesos's files.
type RunInfo struct {
	Sandbox  string  `json:"sandbox"`
	Command  bool    `json:"command"` // Cairn's command executor runs the task
	CPUs     float64 `json:"cpus"`
	MemLimit string  `json:"mem_limit"` // text for OOM messages
}

func (s *Store) agentDir(a ids.AgentID) string { return filepath.Join(s.dir, "slaves", string(a)) }
func (s *Store) frameworkDir(a ids.AgentID, fw ids.FrameworkID) string {
	return filepath.Join(s.agentDir(a), "frameworks", string(fw))
}
func (s *Store) executorDir(r RunRef) string {
	return filepath.Join(s.frameworkDir(r.Agent, r.Framework), "executors", string(r.Executor))
}

// RunDir is the run's checkpoint directory.
func (s *Store) RunDir(r RunRef) string {
	return filepath.Join(s.executorDir(r), "runs", string(r.Container))
}
func (s *Store) taskDir(r RunRef, t ids.TaskID) string {
	return filepath.Join(s.RunDir(r), "tasks", string(t))
}

// WriteBootID records the host's boot id.
func (s *Store) WriteBootID(id string) error {
	return writeFile(s.fs, filepath.Join(s.dir, "boot_id"), []byte(id))
}

// WriteAgent records the agent's info.
func (s *Store) WriteAgent(info *mesospb.AgentInfo) error {
	dir := s.agentDir(ids.AgentID(info.GetId().GetValue()))
	if err := s.fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("checkpoint agent: %w", err)
	}
	return writeProto(s.fs, filepath.Join(dir, "slave.info"), info)
}

// Launch records a new run before its container starts: the framework's
// and executor's info, the run's own info and its first tasks. On failure
// the run's directory is removed again (best effort; Read ignores a run
// without run.info).
func (s *Store) Launch(r RunRef, fw *mesospb.FrameworkInfo, exec *mesospb.ExecutorInfo, info RunInfo, tasks ...*mesospb.TaskInfo) error {
	err := s.launch(r, fw, exec, info, tasks)
	if err != nil {
		_ = s.fs.RemoveAll(s.RunDir(r))
	}
	return err
}

func (s *Store) launch(r RunRef, fw *mesospb.FrameworkInfo, exec *mesospb.ExecutorInfo, info RunInfo, tasks []*mesospb.TaskInfo) error {
	if err := s.fs.MkdirAll(filepath.Join(s.RunDir(r), "tasks")); err != nil {
		return fmt.Errorf("checkpoint run: %w", err)
	}
	if err := writeProto(s.fs, filepath.Join(s.frameworkDir(r.Agent, r.Framework), "framework.info"), fw); err != nil {
		return err
	}
	if err := writeProto(s.fs, filepath.Join(s.executorDir(r), "executor.info"), exec); err != nil {
		return err
	}
	for _, t := range tasks {
		if err := s.WriteTask(r, t); err != nil {
			return err
		}
	}
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("checkpoint run: %w", err)
	}
	// run.info last: a run without it never finished being recorded.
	return writeFile(s.fs, filepath.Join(s.RunDir(r), "run.info"), b)
}

// WriteTask records a task of the run.
func (s *Store) WriteTask(r RunRef, t *mesospb.TaskInfo) error {
	dir := s.taskDir(r, ids.TaskID(t.GetTaskId().GetValue()))
	if err := s.fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("checkpoint task: %w", err)
	}
	return writeProto(s.fs, filepath.Join(dir, "task.info"), t)
}

// WritePid records the container's init pid once it runs.
func (s *Store) WritePid(r RunRef, pid int) error {
	dir := filepath.Join(s.RunDir(r), "pids")
	if err := s.fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("checkpoint pid: %w", err)
	}
	return writeFile(s.fs, filepath.Join(dir, "forked.pid"), []byte(strconv.Itoa(pid)))
}

// AppendUpdate adds a status update to the task's log.
func (s *Store) AppendUpdate(r RunRef, t ids.TaskID, u *internalpb.StatusUpdate) error {
	b, err := partial.Marshal(u)
	if err != nil {
		return fmt.Errorf("checkpoint status update: %w", err)
	}
	return s.appendTask(r, t, kindUpdate, b)
}

// AppendAck records the acknowledgement of the update with uuid.
func (s *Store) AppendAck(r RunRef, t ids.TaskID, uuid []byte) error {
	return s.appendTask(r, t, kindAck, uuid)
}

func (s *Store) appendTask(r RunRef, t ids.TaskID, kind byte, payload []byte) error {
	dir := s.taskDir(r, t)
	if err := s.fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("checkpoint status update: %w", err)
	}
	if err := appendLog(s.fs, filepath.Join(dir, "task.updates"), kind, payload); err != nil {
		return fmt.Errorf("checkpoint status update: %w", err)
	}
	return nil
}

// RemoveRun forgets a finished run (garbage collection). The directory is
// first renamed away in one step, so a crash never leaves half a run;
// emptied executor and framework directories go too.
func (s *Store) RemoveRun(r RunRef) error {
	dir := s.RunDir(r)
	gone := filepath.Join(filepath.Dir(dir), ".gc-"+filepath.Base(dir))
	if err := s.fs.Rename(dir, gone); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove run checkpoint: %w", err)
	}
	if err := s.fs.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove run checkpoint: %w", err)
	}
	s.removeIfEmpty(filepath.Join(s.executorDir(r), "runs"), s.executorDir(r))
	s.removeIfEmpty(filepath.Join(s.frameworkDir(r.Agent, r.Framework), "executors"), s.frameworkDir(r.Agent, r.Framework))
	return nil
}

// removeIfEmpty removes parent when its child directory list is empty.
func (s *Store) removeIfEmpty(list, parent string) {
	entries, err := s.fs.ReadDir(list)
	if err != nil || len(entries) > 0 {
		return
	}
	gone := filepath.Join(filepath.Dir(parent), ".gc-"+filepath.Base(parent))
	if s.fs.Rename(parent, gone) == nil {
		_ = s.fs.RemoveAll(gone)
	}
}

// DropFrameworks forgets every framework checkpointed under agent: after a
// reboot, or once recovery has taken what it needs.
func (s *Store) DropFrameworks(agent ids.AgentID) error {
	dir := filepath.Join(s.agentDir(agent), "frameworks")
	gone := filepath.Join(s.agentDir(agent), ".gc-frameworks")
	_ = s.fs.RemoveAll(gone)
	if err := s.fs.Rename(dir, gone); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop framework checkpoints: %w", err)
	}
	if err := s.fs.RemoveAll(gone); err != nil {
		return fmt.Errorf("drop framework checkpoints: %w", err)
	}
	return nil
}

func writeProto(fsys FS, path string, m proto.Message) error {
	b, err := partial.Marshal(m)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", filepath.Base(path), err)
	}
	return writeFile(fsys, path, b)
}

// RewriteLog replaces a task's update log with entries, keeping the old one
// as task.updates.corrupt for inspection. It is how an agent started with
// --strict=false goes on from the valid prefix of a corrupt log.
func (s *Store) RewriteLog(r RunRef, t ids.TaskID, entries []Entry) error {
	path := filepath.Join(s.taskDir(r, t), "task.updates")
	buf := append([]byte(nil), magic...)
	for _, e := range entries {
		if e.Update == nil {
			buf = appendRecord(buf, kindAck, e.Ack)
			continue
		}
		b, err := partial.Marshal(e.Update)
		if err != nil {
			return fmt.Errorf("rewrite update log: %w", err)
		}
		buf = appendRecord(buf, kindUpdate, b)
	}
	if err := s.fs.Rename(path, path+".corrupt"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rewrite update log: %w", err)
	}
	if err := writeAtomic(s.fs, path, buf); err != nil {
		return fmt.Errorf("rewrite update log: %w", err)
	}
	return nil
}
