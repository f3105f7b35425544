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

// State is everything checkpointed for one agent id.
type State struct {
	BootID     string             // "" when none was recorded
	Agent      *mesospb.AgentInfo // nil when none was recorded
	Frameworks []*Framework
	// Problems are the files that failed their checks (and were skipped)
	// and the torn update logs (whose last record was dropped).
	Problems []Problem
}

// Framework is a checkpointed framework.
type Framework struct {
	ID        ids.FrameworkID
	Info      *mesospb.FrameworkInfo
	Executors []*Executor
}

// Executor is a checkpointed executor and its runs, oldest first.
type Executor struct {
	ID   ids.ExecutorID
	Info *mesospb.ExecutorInfo
	Runs []*Run
}

// Run is one container of an executor.
type Run struct {
	Ref   RunRef
	Info  RunInfo
	Pid   int // 0 when the container never got as far as running
	Tasks []*Task
}

// Task is a checkpointed task and its update log.
type Task struct {
	ID   ids.TaskID
	Info *mesospb.TaskInfo
	Log  []Entry
	// LogCorrupt: the update log failed its checks before its end; Log is
	// the valid prefix. RewriteLog replaces it with a clean one.
	LogCorrupt bool
}

// Entry is one record of a task's update log: an update, or the
// acknowledgement of one.
type Entry struct {
	Update *internalpb.StatusUpdate // nil for an acknowledgement
	Ack    []byte                   // the acknowledged uuid
}

// Problem is a checkpoint file that could not be trusted.
type Problem struct {
	Path string
	Err  error
	// Torn: the file is an update log whose final record was cut short by
	// a crash; it was truncated to its valid prefix. Expected after a
	// crash, unlike corruption.
	Torn bool
}

func (p Problem) String() string {
	if p.Torn {
		return p.Path + ": torn final record dropped"
	}
	return p.Path + ": " + p.Err.Error()
}

// Corrupt returns the problems that are not torn logs.
func (s *State) Corrupt() []Problem {
	var out []Problem
	for _, p := range s.Problems {
		if !p.Torn {
			out = append(out, p)
		}
	}
	return out
}

// Read loads what is checkpointed for agent. A file that fails its checks
// is recorded in Problems and skipped with what depends on it (a framework
// without framework.info, a run without run.info, a task without
// task.info); a corrupt update log keeps its valid prefix. Read repairs
// torn logs by truncating them and removes leftovers of interrupted writes
// and removals. Only failures to read directories are errors.
func (s *Store) Read(agent ids.AgentID) (*State, error) {
	st := &State{}
	r := reader{s: s, st: st}
	if b, err := readFile(s.fs, filepath.Join(s.dir, "boot_id")); err == nil {
		st.BootID = string(b)
	} else if !errors.Is(err, os.ErrNotExist) {
		r.problem(filepath.Join(s.dir, "boot_id"), err)
	}
	if agent == "" {
		return st, nil
	}
	info := &mesospb.AgentInfo{}
	if r.proto(filepath.Join(s.agentDir(agent), "slave.info"), info) {
		st.Agent = info
	}
	fws, err := r.list(filepath.Join(s.agentDir(agent), "frameworks"))
	if err != nil {
		return nil, err
	}
	for _, fw := range fws {
		f := &Framework{ID: ids.FrameworkID(fw), Info: &mesospb.FrameworkInfo{}}
		if !r.proto(filepath.Join(s.frameworkDir(agent, f.ID), "framework.info"), f.Info) {
			continue
		}
		execs, err := r.list(filepath.Join(s.frameworkDir(agent, f.ID), "executors"))
		if err != nil {
			return nil, err
		}
		for _, ex := range execs {
			e, err := r.executor(RunRef{Agent: agent, Framework: f.ID, Executor: ids.ExecutorID(ex)})
			if err != nil {
				return nil, err
			}
			if e != nil {
				f.Executors = append(f.Executors, e)
			}
		}
		st.Frameworks = append(st.Frameworks, f)
	}
	return st, nil
}

type reader struct {
	s  *Store
	st *State
}

func (r *reader) problem(path string, err error) {
	r.st.Problems = append(r.st.Problems, Problem{Path: path, Err: err})
}

// list returns the visible entries of dir (none when it is missing) and
// removes the hidden leftovers of interrupted writes and removals.
func (r *reader) list(dir string) ([]string, error) {
	entries, err := r.s.fs.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			_ = r.s.fs.RemoveAll(filepath.Join(dir, e.Name()))
			continue
		}
		out = append(out, e.Name())
	}
	return out, nil
}

// proto reads a whole-file protobuf checkpoint; false when it is missing
// (silently) or untrustworthy (a problem).
func (r *reader) proto(path string, m proto.Message) bool {
	b, err := readFile(r.s.fs, path)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err == nil {
		if uerr := partialIn.Unmarshal(b, m); uerr != nil {
			err = fmt.Errorf("read %s: %v: %w", path, uerr, ErrCorrupt)
		}
	}
	if err != nil {
		r.problem(path, err)
		return false
	}
	return true
}

func (r *reader) executor(ref RunRef) (*Executor, error) {
	dir := r.s.executorDir(ref)
	e := &Executor{ID: ref.Executor, Info: &mesospb.ExecutorInfo{}}
	if !r.proto(filepath.Join(dir, "executor.info"), e.Info) {
		return nil, nil
	}
	runs, err := r.list(filepath.Join(dir, "runs"))
	if err != nil {
		return nil, err
	}
	for _, c := range runs {
		ref.Container = ids.ContainerID(c)
		run, err := r.run(ref)
		if err != nil {
			return nil, err
		}
		if run != nil {
			e.Runs = append(e.Runs, run)
		}
	}
	return e, nil
}

func (r *reader) run(ref RunRef) (*Run, error) {
	dir := r.s.RunDir(ref)
	run := &Run{Ref: ref}
	b, err := readFile(r.s.fs, filepath.Join(dir, "run.info"))
	if errors.Is(err, os.ErrNotExist) {
		// Launch did not finish recording the run: its container was
		// never started.
		_ = r.s.fs.RemoveAll(dir)
		return nil, nil
	}
	if err == nil {
		if jerr := json.Unmarshal(b, &run.Info); jerr != nil {
			err = fmt.Errorf("read %s: %v: %w", filepath.Join(dir, "run.info"), jerr, ErrCorrupt)
		}
	}
	if err != nil {
		r.problem(filepath.Join(dir, "run.info"), err)
		return nil, nil
	}
	pidPath := filepath.Join(dir, "pids", "forked.pid")
	if b, err := readFile(r.s.fs, pidPath); err == nil {
		if run.Pid, err = strconv.Atoi(string(b)); err != nil || run.Pid <= 0 {
			run.Pid = 0
			r.problem(pidPath, fmt.Errorf("read %s: pid %q: %w", pidPath, b, ErrCorrupt))
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		r.problem(pidPath, err)
	}
	tasks, err := r.list(filepath.Join(dir, "tasks"))
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		task := &Task{ID: ids.TaskID(t), Info: &mesospb.TaskInfo{}}
		tdir := filepath.Join(dir, "tasks", t)
		if !r.proto(filepath.Join(tdir, "task.info"), task.Info) {
			continue
		}
		n := len(r.st.Corrupt())
		task.Log = r.log(filepath.Join(tdir, "task.updates"))
		task.LogCorrupt = len(r.st.Corrupt()) > n
		run.Tasks = append(run.Tasks, task)
	}
	return run, nil
}

// log reads a task's update log, repairing a torn tail.
func (r *reader) log(path string) []Entry {
	data, err := r.s.fs.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.problem(path, err)
		return nil
	}
	d, derr := decode(data)
	if derr != nil {
		r.problem(path, fmt.Errorf("read %s: %w", path, derr))
	}
	if d.torn {
		r.st.Problems = append(r.st.Problems, Problem{Path: path, Torn: true, Err: errors.New("torn final record")})
		if err := truncate(r.s.fs, path, int64(d.valid)); err != nil {
			r.problem(path, fmt.Errorf("repair torn log %s: %w", path, err))
		}
	}
	var out []Entry
	for _, rec := range d.records {
		switch rec.kind {
		case kindUpdate:
			u := &internalpb.StatusUpdate{}
			if err := partialIn.Unmarshal(rec.payload, u); err != nil {
				r.problem(path, fmt.Errorf("read %s: update: %v: %w", path, err, ErrCorrupt))
				return out
			}
			out = append(out, Entry{Update: u})
		case kindAck:
			out = append(out, Entry{Ack: append([]byte(nil), rec.payload...)})
		default:
			r.problem(path, fmt.Errorf("read %s: record kind %d: %w", path, rec.kind, ErrCorrupt))
			return out
		}
	}
	return out
}

func truncate(fsys FS, path string, size int64) error {
	f, err := fsys.OpenFile(path, os.O_RDWR)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}
