package task

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Unix(1_700_000_000, 0)

func info(id string) *mesospb.TaskInfo {
	return &mesospb.TaskInfo{Name: proto.String(id), TaskId: &mesospb.TaskID{Value: proto.String(id)}}
}

func status(id string, s mesospb.TaskState) *mesospb.TaskStatus {
	return &mesospb.TaskStatus{TaskId: &mesospb.TaskID{Value: proto.String(id)}, State: s.Enum()}
}

// describe renders effects compactly for the table's expectations.
func describe(effs []Effect) string {
	var parts []string
	for _, e := range effs {
		switch e := e.(type) {
		case SendLaunch:
			parts = append(parts, "launch "+e.Task.GetTaskId().GetValue())
		case SendKill:
			parts = append(parts, "kill "+string(e.TaskID))
		case SendShutdown:
			parts = append(parts, "shutdown")
		case Report:
			st := e.Status
			parts = append(parts, fmt.Sprintf("report %s %s %s", st.GetTaskId().GetValue(),
				strings.TrimPrefix(st.GetState().String(), "TASK_"), strings.TrimPrefix(st.GetReason().String(), "REASON_")))
		case Destroy:
			parts = append(parts, "destroy")
		case Release:
			parts = append(parts, "release")
		}
	}
	return strings.Join(parts, "; ")
}

type step struct {
	do    func(e *Executor) ([]Effect, error)
	want  string
	err   error
	phase Phase
}

func subscribe(e *Executor) ([]Effect, error) { return e.Subscribed(), nil }
func update(id string, s mesospb.TaskState) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return nil, e.Update(status(id, s)) }
}
func kill(id string) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return e.Kill(ids.TaskID(id), nil) }
}
func tick(d time.Duration) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return e.Tick(t0.Add(d)), nil }
}
func exited(x Exit) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return e.Exited(x), nil }
}
func acked(id string) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return e.Acked(ids.TaskID(id)), nil }
}
func shutdown(d time.Duration) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) {
		return e.Shutdown(t0.Add(d), mesospb.TaskStatus_REASON_FRAMEWORK_REMOVED), nil
	}
}
func add(id string) func(*Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) { return e.Add(info(id)), nil }
}

func TestExecutorLifecycle(t *testing.T) {
	cfg := Config{RegistrationTimeout: time.Minute, ShutdownGrace: 5 * time.Second}
	tests := []struct {
		name  string
		steps []step
	}{
		{"happy path", []step{
			{do: subscribe, want: "launch t1", phase: Running},
			{do: update("t1", mesospb.TaskState_TASK_RUNNING), phase: Running},
			{do: update("t1", mesospb.TaskState_TASK_FINISHED), phase: Running},
			{do: update("t1", mesospb.TaskState_TASK_RUNNING), err: ErrTerminal},
			{do: update("nope", mesospb.TaskState_TASK_RUNNING), err: ErrUnknownTask},
			{do: acked("t1"), phase: Running}, // container still runs
			{do: exited(Exit{Code: 0}), want: "release", phase: Released},
		}},
		{"exit before ack, then ack releases", []step{
			{do: subscribe, want: "launch t1"},
			{do: update("t1", mesospb.TaskState_TASK_FINISHED)},
			{do: exited(Exit{Code: 0}), want: "", phase: Exited},
			{do: acked("t1"), want: "release", phase: Released},
		}},
		{"executor dies with a running task", []step{
			{do: subscribe, want: "launch t1"},
			{do: update("t1", mesospb.TaskState_TASK_RUNNING)},
			{do: exited(Exit{Code: 137, Signal: "killed"}), want: "report t1 FAILED EXECUTOR_TERMINATED", phase: Exited},
			{do: exited(Exit{}), want: ""}, // idempotent
			{do: acked("t1"), want: "release"},
		}},
		{"oom kill", []step{
			{do: subscribe, want: "launch t1"},
			{do: exited(Exit{OOMKilled: true, MemoryLimit: "64MB"}), want: "report t1 FAILED CONTAINER_LIMITATION_MEMORY"},
		}},
		{"launch failure", []step{
			{do: exited(Exit{LaunchError: "no such file"}), want: "report t1 FAILED CONTAINER_LAUNCH_FAILED", phase: Exited},
		}},
		{"registration timeout", []step{
			{do: tick(59 * time.Second), want: "", phase: Launching},
			{do: tick(time.Minute), want: "report t1 FAILED EXECUTOR_REGISTRATION_TIMEOUT; destroy", phase: Terminating},
			{do: tick(2 * time.Minute), want: ""}, // destroy once
			{do: exited(Exit{Signal: "killed"}), want: "", phase: Exited},
			{do: acked("t1"), want: "release"},
		}},
		{"kill during launch", []step{
			{do: kill("t1"), want: "report t1 KILLED TASK_KILLED_DURING_LAUNCH; destroy", phase: Terminating},
			{do: kill("t1"), want: ""},
			{do: kill("zz"), err: ErrUnknownTask},
			{do: subscribe, want: "shutdown"}, // a late subscriber is told to go
			{do: exited(Exit{}), want: ""},
			{do: acked("t1"), want: "release"},
		}},
		{"kill a running task goes to the executor", []step{
			{do: subscribe, want: "launch t1"},
			{do: kill("t1"), want: "kill t1"},
			{do: update("t1", mesospb.TaskState_TASK_KILLED)},
			{do: kill("t1"), want: ""},
		}},
		{"shutdown a subscribed executor, grace, then destroy", []step{
			{do: subscribe, want: "launch t1"},
			{do: shutdown(10 * time.Second), want: "shutdown", phase: Terminating},
			{do: tick(14 * time.Second), want: ""},
			{do: tick(15 * time.Second), want: "destroy"},
			{do: exited(Exit{Signal: "killed"}), want: "report t1 FAILED EXECUTOR_TERMINATED"},
		}},
		{"shutdown before subscribe", []step{
			{do: shutdown(0), want: "report t1 KILLED FRAMEWORK_REMOVED; destroy", phase: Terminating},
		}},
		{"task added after subscribe is sent at once; resubscribe resends nothing", []step{
			{do: subscribe, want: "launch t1"},
			{do: add("t2"), want: "launch t2"},
			{do: subscribe, want: "", phase: Running},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New("e1", "fw", cfg, t0, info("t1"))
			for i, s := range tc.steps {
				effs, err := s.do(e)
				if !errors.Is(err, s.err) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.err)
				}
				if got := describe(effs); got != s.want {
					t.Fatalf("step %d: effects %q, want %q", i, got, s.want)
				}
				if s.phase != 0 && e.Phase() != s.phase {
					t.Fatalf("step %d: phase %v, want %v", i, e.Phase(), s.phase)
				}
			}
		})
	}
}
