package task

import (
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

func resubscribe(known ...string) func(e *Executor) ([]Effect, error) {
	return func(e *Executor) ([]Effect, error) {
		var k []ids.TaskID
		for _, id := range known {
			k = append(k, ids.TaskID(id))
		}
		return e.Subscribed(k...), nil
	}
}

func abandon(e *Executor) ([]Effect, error) {
	return e.Abandon(mesospb.TaskState_TASK_LOST, mesospb.TaskStatus_REASON_AGENT_RESTARTED, "rebooted"), nil
}

func fail(e *Executor) ([]Effect, error) {
	return e.Fail(mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED, "no disk"), nil
}

func TestRecoveredExecutor(t *testing.T) {
	cfg := Config{RegistrationTimeout: time.Minute, ShutdownGrace: 5 * time.Second, ReregistrationTimeout: 2 * time.Second}
	running := Restored{Info: info("t1"), State: mesospb.TaskState_TASK_RUNNING, AtExecutor: true}
	queued := Restored{Info: info("t2"), State: mesospb.TaskState_TASK_STAGING}
	finished := Restored{Info: info("t3"), State: mesospb.TaskState_TASK_FINISHED, AtExecutor: true, Reported: true}
	tests := []struct {
		name  string
		tasks []Restored
		steps []step
	}{
		{"re-subscribes in time: nothing is sent again", []Restored{running}, []step{
			{do: tick(time.Second), want: "", phase: Recovering},
			{do: resubscribe(), want: "", phase: Running},
			{do: update("t1", mesospb.TaskState_TASK_FINISHED)},
			{do: exited(Exit{}), want: ""},
			{do: acked("t1"), want: "release"},
		}},
		{"never re-subscribes", []Restored{running, finished}, []step{
			{do: tick(2 * time.Second), want: "report t1 FAILED EXECUTOR_REREGISTRATION_TIMEOUT; destroy", phase: Terminating},
			{do: exited(Exit{Signal: "killed"}), want: "", phase: Exited},
			{do: acked("t1"), want: ""}, // t3's terminal update is still unacknowledged
			{do: acked("t3"), want: "release"},
		}},
		{"a task the executor never got is launched on re-subscribe, unless it says it has it", []Restored{running, queued}, []step{
			{do: resubscribe(), want: "launch t2"},
		}},
		{"unacknowledged tasks the executor reports are not sent again", []Restored{running, queued}, []step{
			{do: resubscribe("t2"), want: ""},
		}},
		{"container gone while the agent was down", []Restored{running, finished}, []step{
			{do: exited(Exit{Code: -1, Unknown: true}), want: "report t1 FAILED EXECUTOR_TERMINATED", phase: Exited},
		}},
		{"kill while recovering waits for the re-subscription", []Restored{running}, []step{
			{do: kill("t1"), want: "", phase: Recovering},
			{do: resubscribe(), want: "kill t1", phase: Running},
		}},
		{"kill of a task the executor never got", []Restored{queued}, []step{
			{do: kill("t2"), want: "report t2 KILLED TASK_KILLED_DURING_LAUNCH; destroy", phase: Terminating},
		}},
		{"abandoned after a reboot", []Restored{running, finished}, []step{
			{do: abandon, want: "report t1 LOST AGENT_RESTARTED", phase: Exited},
			{do: exited(Exit{}), want: ""},
			{do: acked("t1"), want: ""},
			{do: acked("t3"), want: "release", phase: Released},
		}},
		{"failed by the agent", []Restored{running}, []step{
			{do: resubscribe(), want: ""},
			{do: fail, want: "report t1 FAILED EXECUTOR_TERMINATED; destroy", phase: Terminating},
			{do: fail, want: ""},
		}},
		{"new task for a recovering executor waits for it", []Restored{running}, []step{
			{do: add("t9"), want: ""},
			{do: resubscribe(), want: "launch t9"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Recover("e1", "fw", cfg, t0, tc.tasks)
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
