package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

var ref = RunRef{Agent: "m1-S1", Framework: "fw1", Executor: "e1", Container: "c1"}

func open(t *testing.T, fsys FS) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "meta")
	s, err := Open(dir, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func taskInfo(id string) *mesospb.TaskInfo {
	return &mesospb.TaskInfo{Name: proto.String(id), TaskId: &mesospb.TaskID{Value: proto.String(id)}}
}

func update(task string, state mesospb.TaskState, n byte) *internalpb.StatusUpdate {
	u := make([]byte, 16)
	u[15] = n
	return &internalpb.StatusUpdate{
		FrameworkId: &mesospb.FrameworkID{Value: proto.String("fw1")},
		AgentId:     &mesospb.AgentID{Value: proto.String("m1-S1")},
		Status:      &mesospb.TaskStatus{TaskId: &mesospb.TaskID{Value: proto.String(task)}, State: state.Enum(), Uuid: u},
	}
}

// launch records a run with task t1, its pid and two updates and one ack.
func launch(t *testing.T, s *Store) {
	t.Helper()
	fw := &mesospb.FrameworkInfo{Id: &mesospb.FrameworkID{Value: proto.String("fw1")}, Checkpoint: proto.Bool(true), User: proto.String("u"), Name: proto.String("n")}
	ex := &mesospb.ExecutorInfo{ExecutorId: &mesospb.ExecutorID{Value: proto.String("e1")}}
	must(t, s.Launch(ref, fw, ex, RunInfo{Sandbox: "/sb", Command: true, CPUs: 0.2, MemLimit: "requested 32MB"}, taskInfo("t1")))
	must(t, s.WritePid(ref, 4242))
	must(t, s.AppendUpdate(ref, "t1", update("t1", mesospb.TaskState_TASK_RUNNING, 1)))
	must(t, s.AppendAck(ref, "t1", update("t1", 0, 1).Status.Uuid))
	must(t, s.AppendUpdate(ref, "t1", update("t1", mesospb.TaskState_TASK_FINISHED, 2)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	s, _ := open(t, nil)
	must(t, s.WriteBootID("boot-1"))
	must(t, s.WriteAgent(&mesospb.AgentInfo{Id: &mesospb.AgentID{Value: proto.String("m1-S1")}, Hostname: proto.String("h")}))
	launch(t, s)
	st, err := s.Read("m1-S1")
	must(t, err)
	if len(st.Problems) != 0 {
		t.Fatalf("problems %v", st.Problems)
	}
	if st.BootID != "boot-1" || st.Agent.GetHostname() != "h" {
		t.Fatalf("boot %q agent %v", st.BootID, st.Agent)
	}
	if len(st.Frameworks) != 1 || !st.Frameworks[0].Info.GetCheckpoint() || len(st.Frameworks[0].Executors) != 1 {
		t.Fatalf("frameworks %+v", st.Frameworks)
	}
	runs := st.Frameworks[0].Executors[0].Runs
	if len(runs) != 1 || runs[0].Pid != 4242 || runs[0].Ref != ref || !runs[0].Info.Command || runs[0].Info.MemLimit != "requested 32MB" {
		t.Fatalf("runs %+v", runs)
	}
	task := runs[0].Tasks[0]
	if task.ID != "t1" || len(task.Log) != 3 || task.Log[1].Ack == nil || task.Log[2].Update.GetStatus().GetState() != mesospb.TaskState_TASK_FINISHED {
		t.Fatalf("task %+v", task)
	}

	// Garbage collection takes the run and the emptied parents away.
	must(t, s.RemoveRun(ref))
	st, err = s.Read("m1-S1")
	must(t, err)
	if len(st.Frameworks) != 0 {
		t.Fatalf("frameworks after RemoveRun: %+v", st.Frameworks)
	}
}

func TestVersion(t *testing.T) {
	s, dir := open(t, nil)
	if _, err := Open(s.Dir(), nil); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "version"), []byte("cairn-agent-checkpoint/0\n"), 0o644))
	_, err := Open(dir, nil)
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "cairn-agent-checkpoint/0") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("open of an old work dir: %v", err)
	}
}

func logPath(s *Store) string { return filepath.Join(s.RunDir(ref), "tasks", "t1", "task.updates") }

// TestDamage damages the files of a checkpointed run and checks what Read
// trusts and reports.
func TestDamage(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, s *Store)
		torn    bool   // a torn log: reported, not corrupt
		corrupt string // file named by the corrupt problem
		entries int    // log entries still trusted (-1: task skipped)
		runs    int
	}{
		{"truncated final record", func(t *testing.T, s *Store) { chop(t, logPath(s), 3) }, true, "", 2, 1},
		{"bit flip in final record", func(t *testing.T, s *Store) { flip(t, logPath(s), -2) }, true, "", 2, 1},
		{"log cut inside its magic", func(t *testing.T, s *Store) { must(t, os.WriteFile(logPath(s), []byte("CR"), 0o644)) }, true, "", 0, 1},
		{"bit flip in first record", func(t *testing.T, s *Store) { flip(t, logPath(s), len(magic)+headerLen+2) }, false, "task.updates", 0, 1},
		{"bad log magic", func(t *testing.T, s *Store) { flip(t, logPath(s), 0) }, false, "task.updates", 0, 1},
		{"torn task.info", func(t *testing.T, s *Store) { chop(t, filepath.Join(s.RunDir(ref), "tasks/t1/task.info"), 1) }, false, "task.info", -1, 1},
		{"bit flip in run.info", func(t *testing.T, s *Store) { flip(t, filepath.Join(s.RunDir(ref), "run.info"), -1) }, false, "run.info", -1, 0},
		{"trailing garbage after a whole file", func(t *testing.T, s *Store) {
			appendBytes(t, filepath.Join(s.RunDir(ref), "pids/forked.pid"), "xx")
		}, false, "forked.pid", 3, 1},
		{"run.info never written (crash during launch)", func(t *testing.T, s *Store) {
			must(t, os.Remove(filepath.Join(s.RunDir(ref), "run.info")))
		}, false, "", -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t, nil)
			launch(t, s)
			tc.damage(t, s)
			st, err := s.Read("m1-S1")
			must(t, err)
			var torn bool
			var corrupt []string
			for _, p := range st.Problems {
				if p.Torn {
					torn = true
				} else {
					corrupt = append(corrupt, p.Path)
					if !errors.Is(p.Err, ErrCorrupt) {
						t.Errorf("problem %v is not ErrCorrupt", p)
					}
				}
			}
			if torn != tc.torn {
				t.Errorf("torn %v, want %v (%v)", torn, tc.torn, st.Problems)
			}
			if tc.corrupt == "" && len(corrupt) > 0 || tc.corrupt != "" && (len(corrupt) != 1 || filepath.Base(corrupt[0]) != tc.corrupt) {
				t.Errorf("corrupt %v, want %q", corrupt, tc.corrupt)
			}
			runs := st.Frameworks[0].Executors[0].Runs
			if len(runs) != tc.runs {
				t.Fatalf("runs %d, want %d", len(runs), tc.runs)
			}
			if tc.runs == 0 {
				return
			}
			got := -1
			if len(runs[0].Tasks) == 1 {
				got = len(runs[0].Tasks[0].Log)
			}
			if got != tc.entries {
				t.Fatalf("trusted entries %d, want %d", got, tc.entries)
			}
			if tc.torn {
				// Repaired: appending goes on after the valid prefix.
				must(t, s.AppendAck(ref, "t1", make([]byte, 16)))
				st, err := s.Read("m1-S1")
				must(t, err)
				if len(st.Problems) != 0 || len(st.Frameworks[0].Executors[0].Runs[0].Tasks[0].Log) != tc.entries+1 {
					t.Fatalf("after repair: %v", st.Problems)
				}
			}
		})
	}
}

func TestRewriteCorruptLog(t *testing.T) {
	s, _ := open(t, nil)
	launch(t, s)
	flip(t, logPath(s), -60) // inside the second or third record, not the last byte
	st, err := s.Read("m1-S1")
	must(t, err)
	task := st.Frameworks[0].Executors[0].Runs[0].Tasks[0]
	if !task.LogCorrupt || len(st.Corrupt()) != 1 {
		t.Fatalf("corrupt log not flagged: %v %v", task.LogCorrupt, st.Problems)
	}
	must(t, s.RewriteLog(ref, "t1", task.Log))
	st, err = s.Read("m1-S1")
	must(t, err)
	if len(st.Problems) != 0 || len(st.Frameworks[0].Executors[0].Runs[0].Tasks[0].Log) != len(task.Log) {
		t.Fatalf("after rewrite: %v", st.Problems)
	}
	if _, err := os.Stat(logPath(s) + ".corrupt"); err != nil {
		t.Fatalf("corrupt log not kept: %v", err)
	}
}

// fullFS fails every write after budget bytes with ENOSPC, as a full disk.
type fullFS struct {
	OS
	budget *int
}

type fullFile struct {
	*os.File
	budget *int
}

func (f fullFS) OpenFile(name string, flag int) (File, error) {
	file, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return fullFile{file, f.budget}, nil
}

func (f fullFile) Write(b []byte) (int, error) {
	n := min(len(b), max(0, *f.budget))
	*f.budget -= n
	if n > 0 {
		if _, err := f.File.Write(b[:n]); err != nil {
			return 0, err
		}
	}
	if n < len(b) {
		return n, syscall.ENOSPC
	}
	return n, nil
}

func TestDiskFull(t *testing.T) {
	budget := 1 << 20
	s, _ := open(t, fullFS{budget: &budget})
	launch(t, s)

	// An append that runs out of space half way leaves no partial record.
	budget = 10
	err := s.AppendUpdate(ref, "t1", update("t1", mesospb.TaskState_TASK_FAILED, 3))
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "checkpoint status update") {
		t.Fatalf("append on a full disk: %v", err)
	}
	// A whole file that does not fit leaves the old one.
	err = s.WriteTask(ref, &mesospb.TaskInfo{Name: proto.String("renamed"), TaskId: &mesospb.TaskID{Value: proto.String("t1")}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v", err)
	}
	// A launch that does not fit leaves no run behind.
	budget = 100
	ref2 := ref
	ref2.Container = "c2"
	if err := s.Launch(ref2, &mesospb.FrameworkInfo{}, &mesospb.ExecutorInfo{}, RunInfo{}, taskInfo("t1")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("launch on a full disk: %v", err)
	}

	budget = 1 << 20
	st, err := s.Read("m1-S1")
	must(t, err)
	if len(st.Problems) != 0 {
		t.Fatalf("problems after disk full: %v", st.Problems)
	}
	runs := st.Frameworks[0].Executors[0].Runs
	if len(runs) != 1 || len(runs[0].Tasks[0].Log) != 3 || runs[0].Tasks[0].Info.GetName() != "t1" {
		t.Fatalf("state after disk full: %+v", runs)
	}
	entries, _ := os.ReadDir(filepath.Join(s.RunDir(ref), "tasks", "t1"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
	// The log takes appends again once there is room.
	must(t, s.AppendAck(ref, "t1", update("t1", 0, 2).Status.Uuid))
}

func chop(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, b[:len(b)-n], 0o644))
}

// flip inverts one byte; a negative offset counts from the end.
func flip(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0xff
	must(t, os.WriteFile(path, b, 0o644))
}

func appendBytes(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	f.WriteString(s)
	f.Close()
}

var _ = ids.TaskID("")
