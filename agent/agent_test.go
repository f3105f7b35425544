package agent

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

func expectUpdate(t *testing.T, u *internalpb.StatusUpdate, task string, state mesospb.TaskState) {
	t.Helper()
	if got := u.GetStatus().GetTaskId().GetValue(); got != task {
		t.Fatalf("update for task %q, want %q", got, task)
	}
	if got := u.GetStatus().GetState(); got != state {
		t.Fatalf("update state %s, want %s (%v)", got, state, u.GetStatus())
	}
	if u.GetAgentId().GetValue() == "" || u.GetStatus().GetAgentId().GetValue() != u.GetAgentId().GetValue() {
		t.Fatalf("update without agent id: %v", u)
	}
	if len(u.GetStatus().GetUuid()) != 16 {
		t.Fatalf("update without uuid: %v", u)
	}
}

// eventually polls cond until it holds; it bounds a wait, it times nothing.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCommandTaskLifecycle(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))

	spec := ta.launched(t)
	// The container: the command executor from the cairn binary, Mesos env,
	// limits with the executor's overhead, a Mesos-layout sandbox.
	if !slices.Equal(spec.Args, []string{"/.cairn/cairn", "executor"}) {
		t.Fatalf("args %v", spec.Args)
	}
	if len(spec.Binds) != 1 || spec.Binds[0].Target != "/.cairn/cairn" || spec.Binds[0].Writable {
		t.Fatalf("binds %+v", spec.Binds)
	}
	wantSandbox := filepath.Join(ta.cfg.WorkDir, "slaves/m1-S1/frameworks/fw1/executors/t1/runs", string(spec.ID))
	if spec.Sandbox != wantSandbox {
		t.Fatalf("sandbox %s, want %s", spec.Sandbox, wantSandbox)
	}
	for _, f := range []string{"stdout", "stderr"} {
		if _, err := os.Stat(filepath.Join(spec.Sandbox, f)); err != nil {
			t.Fatalf("sandbox %s: %v", f, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(filepath.Dir(spec.Sandbox), "latest")); err != nil || l != string(spec.ID) {
		t.Fatalf("runs/latest -> %q, %v", l, err)
	}
	if got, want := spec.Limits.MemoryBytes, int64(96<<20); got != want {
		t.Fatalf("memory limit %d, want %d (64 MB + 32 MB overhead)", got, want)
	}
	env := strings.Join(spec.Env, "\n")
	for _, want := range []string{"MESOS_FRAMEWORK_ID=fw1", "MESOS_EXECUTOR_ID=t1", "MESOS_DIRECTORY=" + spec.Sandbox,
		"MESOS_SANDBOX=" + spec.Sandbox, "MESOS_AGENT_ENDPOINT=" + ta.Addr().String(), "MESOS_CHECKPOINT=0",
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs", "MESOS_CONTAINER_ID=" + string(spec.ID), "MESOS_AGENT_ID=m1-S1", "MESOS_SLAVE_ID=m1-S1"} {
		if !strings.Contains(env, want+"\n") && !strings.HasSuffix(env, want) {
			t.Fatalf("env lacks %s:\n%s", want, env)
		}
	}

	ex := ta.executor(t, "fw1", "t1")
	ex.subscribe()
	sub := ex.expect(executorpb.Event_SUBSCRIBED).GetSubscribed()
	if sub.GetContainerId().GetValue() != string(spec.ID) || sub.GetAgentInfo().GetId().GetValue() != "m1-S1" ||
		sub.GetFrameworkInfo().GetId().GetValue() != "fw1" || sub.GetExecutorInfo().GetExecutorId().GetValue() != "t1" {
		t.Fatalf("subscribed %v", sub)
	}
	if ev := ex.expect(executorpb.Event_LAUNCH); ev.GetLaunch().GetTask().GetTaskId().GetValue() != "t1" {
		t.Fatalf("launch %v", ev)
	}

	// RUNNING and FINISHED: both acknowledged to the executor at once, but
	// the master sees FINISHED only after acknowledging RUNNING.
	if code := ex.update("t1", mesospb.TaskState_TASK_RUNNING, uuidN(1)); code != http.StatusAccepted {
		t.Fatalf("update: %d", code)
	}
	if ev := ex.expect(executorpb.Event_ACKNOWLEDGED); string(ev.GetAcknowledged().GetUuid()) != string(uuidN(1)) {
		t.Fatalf("ack %v", ev)
	}
	running := ta.master.next(t)
	expectUpdate(t, running, "t1", mesospb.TaskState_TASK_RUNNING)
	if code := ex.update("t1", mesospb.TaskState_TASK_FINISHED, uuidN(2)); code != http.StatusAccepted {
		t.Fatalf("update: %d", code)
	}
	ex.expect(executorpb.Event_ACKNOWLEDGED)
	// The unacknowledged RUNNING is resent, now with latest_state FINISHED.
	again := ta.master.next(t)
	expectUpdate(t, again, "t1", mesospb.TaskState_TASK_RUNNING)
	if again.GetLatestState() != mesospb.TaskState_TASK_FINISHED {
		t.Fatalf("latest_state %s, want TASK_FINISHED", again.GetLatestState())
	}
	// A duplicate from the executor is acknowledged again, not re-queued.
	if code := ex.update("t1", mesospb.TaskState_TASK_FINISHED, uuidN(2)); code != http.StatusAccepted {
		t.Fatalf("duplicate update: %d", code)
	}
	ex.expect(executorpb.Event_ACKNOWLEDGED)
	// The duplicate is not counted again.
	_, mr, _ := ta.opCall(t, api.JSON, &agentpb.Call{Type: agentpb.Call_GET_METRICS.Enum()})
	if ms := mr.GetGetMetrics().GetMetrics(); !hasMetric(ms, "slave/tasks_finished", 1) || !hasMetric(ms, "slave/tasks_failed", 0) ||
		!hasMetric(ms, "slave/container_launch_errors", 0) {
		t.Fatalf("metrics after one FINISHED: %v", ms)
	}

	ta.ack(t, running)
	var finished *internalpb.StatusUpdate
	for finished == nil {
		u := ta.master.next(t)
		if u.GetStatus().GetState() == mesospb.TaskState_TASK_RUNNING {
			continue // a resend that raced the ack
		}
		finished = u
	}
	expectUpdate(t, finished, "t1", mesospb.TaskState_TASK_FINISHED)

	// After FINISHED nothing else may be accepted for the task.
	if code := ex.update("t1", mesospb.TaskState_TASK_FAILED, uuidN(3)); code != http.StatusBadRequest {
		t.Fatalf("update after terminal: %d, want 400", code)
	}

	ta.ctr.exit(spec.ID, containerizer.Exit{Code: 0})
	ta.ack(t, finished)
	eventually(t, "executor released and container destroyed", func() bool {
		return len(ta.state(t).GetTasks()) == 0 && ta.ctr.destroyCount(spec.ID) > 0
	})
	if _, err := os.Stat(spec.Sandbox); err != nil {
		t.Fatalf("sandbox removed: %v", err)
	}
}

func TestOOMRewritesTerminalUpdate(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	ex := ta.executor(t, "fw1", "t1")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)
	ta.ctr.setOOM(spec.ID, 1)
	if code := ex.update("t1", mesospb.TaskState_TASK_FAILED, uuidN(1)); code != http.StatusAccepted {
		t.Fatalf("update: %d", code)
	}
	ex.expect(executorpb.Event_ACKNOWLEDGED)
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	s := u.GetStatus()
	if s.GetSource() != mesospb.TaskStatus_SOURCE_AGENT || s.GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY ||
		!strings.Contains(s.GetMessage(), "64MB") {
		t.Fatalf("status %v", s)
	}
}

func TestContainerExitFailsTasks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exit   containerizer.Exit
		reason mesospb.TaskStatus_Reason
	}{
		{"executor died", containerizer.Exit{Code: 1}, mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED},
		{"oom killed", containerizer.Exit{Code: 137, OOMKilled: true}, mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := startAgent(t, nil)
			ta.register(t, "m1-S1")
			ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
			spec := ta.launched(t)
			ex := ta.executor(t, "fw1", "t1")
			ex.subscribe()
			ex.expect(executorpb.Event_SUBSCRIBED)
			ex.expect(executorpb.Event_LAUNCH)
			ex.update("t1", mesospb.TaskState_TASK_RUNNING, uuidN(1))
			ta.ack(t, ta.master.next(t))
			ta.ctr.exit(spec.ID, tc.exit)
			u := ta.master.next(t)
			expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
			if u.GetStatus().GetSource() != mesospb.TaskStatus_SOURCE_AGENT || u.GetStatus().GetReason() != tc.reason {
				t.Fatalf("status %v", u.GetStatus())
			}
			ta.ack(t, u)
			eventually(t, "executor released", func() bool { return len(ta.state(t).GetTasks()) == 0 })
		})
	}
}

func TestRegistrationTimeout(t *testing.T) {
	ta := startAgent(t, func(c *Config, _ *fakeContainerizer) { c.ExecutorRegistrationTimeout = 50 * time.Millisecond })
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_EXECUTOR_REGISTRATION_TIMEOUT {
		t.Fatalf("reason %s", u.GetStatus().GetReason())
	}
	eventually(t, "container destroyed", func() bool { return ta.ctr.destroyCount(spec.ID) > 0 })
	// A late subscriber is refused once the container is gone.
	ta.ack(t, u)
	eventually(t, "executor released", func() bool { return len(ta.state(t).GetTasks()) == 0 })
	resp := ta.executor(t, "fw1", "t1").call(&executorpb.Call{Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: &executorpb.Call_Subscribe{}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("late subscribe: %d", resp.StatusCode)
	}
}

func TestKillBeforeSubscribe(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	ta.post(t, "/internal/v1/kill_task", &internalpb.KillTask{FrameworkId: fwInfo().GetId(), TaskId: &mesospb.TaskID{Value: ptr("t1")}})
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_KILLED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_TASK_KILLED_DURING_LAUNCH {
		t.Fatalf("reason %s", u.GetStatus().GetReason())
	}
	eventually(t, "container destroyed", func() bool { return ta.ctr.destroyCount(spec.ID) > 0 })
}

func TestKillAndShutdownGoToTheExecutor(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	ta.launched(t)
	ex := ta.executor(t, "fw1", "t1")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)
	ta.post(t, "/internal/v1/kill_task", &internalpb.KillTask{FrameworkId: fwInfo().GetId(), TaskId: &mesospb.TaskID{Value: ptr("t1")},
		KillPolicy: &mesospb.KillPolicy{GracePeriod: &mesospb.DurationInfo{Nanoseconds: ptr(int64(time.Second))}}})
	kill := ex.expect(executorpb.Event_KILL).GetKill()
	if kill.GetTaskId().GetValue() != "t1" || kill.GetKillPolicy().GetGracePeriod().GetNanoseconds() != int64(time.Second) {
		t.Fatalf("kill %v", kill)
	}
	ta.post(t, "/internal/v1/shutdown_framework", &internalpb.ShutdownFramework{FrameworkId: fwInfo().GetId()})
	ex.expect(executorpb.Event_SHUTDOWN)
}

func TestResubscribeReplacesStream(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	ta.launched(t)
	first := ta.executor(t, "fw1", "t1")
	first.subscribe()
	first.expect(executorpb.Event_SUBSCRIBED)
	first.expect(executorpb.Event_LAUNCH)
	second := ta.executor(t, "fw1", "t1")
	second.subscribe()
	second.expect(executorpb.Event_SUBSCRIBED)
	// The old stream ends.
	if _, err := first.events.Next(); err == nil {
		t.Fatal("old stream still delivers events")
	}
	second.update("t1", mesospb.TaskState_TASK_RUNNING, uuidN(1))
	second.expect(executorpb.Event_ACKNOWLEDGED)
}

func TestTaskValidation(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("big", "cpus:3;mem:64"))
	u := ta.master.next(t)
	expectUpdate(t, u, "big", mesospb.TaskState_TASK_ERROR)
	if !strings.Contains(u.GetStatus().GetMessage(), "more resources") {
		t.Fatalf("message %q", u.GetStatus().GetMessage())
	}
	// Acknowledge as a framework would, or the update is (rightly) resent
	// and may arrive before the next one this test waits for.
	ta.ack(t, u)
	ta.run(t, commandTask("t1", "cpus:1.5;mem:64"))
	ta.launched(t)
	// Now only 0.5 cpus are left.
	ta.run(t, commandTask("t2", "cpus:1;mem:64"))
	u2 := ta.master.next(t)
	expectUpdate(t, u2, "t2", mesospb.TaskState_TASK_ERROR)
	ta.ack(t, u2)
	// A duplicate task id is refused without disturbing the first task.
	ta.run(t, commandTask("t1", "cpus:0.1;mem:8"))
	dup := ta.master.next(t)
	expectUpdate(t, dup, "t1", mesospb.TaskState_TASK_ERROR)
	st := ta.state(t)
	if len(st.GetTasks()) != 1 || st.GetTasks()[0].GetState() != mesospb.TaskState_TASK_STAGING {
		t.Fatalf("tasks %v", st.GetTasks())
	}
	noCmd := commandTask("t3", "cpus:0.1")
	noCmd.Command = nil
	ta.run(t, noCmd)
	expectUpdate(t, ta.master.next(t), "t3", mesospb.TaskState_TASK_ERROR)
}

func TestStatusUpdateRetriedUntilAcked(t *testing.T) {
	ta := startAgent(t, nil)
	ta.master.failN <- struct{}{}
	ta.master.failN <- struct{}{}
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("big", "cpus:30"))
	u := ta.master.next(t) // after two failed attempts
	expectUpdate(t, u, "big", mesospb.TaskState_TASK_ERROR)
	again := ta.master.next(t) // not acknowledged: resent
	if string(again.GetStatus().GetUuid()) != string(u.GetStatus().GetUuid()) {
		t.Fatal("resend has a new uuid")
	}
	ta.ack(t, u)
	// Drain resends already in flight, then nothing more arrives for a while.
	eventually(t, "stream closed", func() bool {
		var n int
		ta.do(t.Context(), func(st *state) { n = st.sum.Len() })
		return n == 0
	})
}

func TestUpdatesWaitForRegistration(t *testing.T) {
	ta := startAgent(t, nil)
	// Before admission the agent has no id to send updates under.
	ta.run(t, commandTask("big", "cpus:30"))
	select {
	case u := <-ta.master.updates:
		t.Fatalf("update before registration: %v", u)
	case <-time.After(100 * time.Millisecond):
	}
	ta.register(t, "m1-S7")
	u := ta.master.next(t)
	if u.GetAgentId().GetValue() != "m1-S7" {
		t.Fatalf("agent id %v", u.GetAgentId())
	}
}

func TestAgentIDPersisted(t *testing.T) {
	ta := startAgent(t, nil)
	if ta.state(t).GetAgentInfo().Id != nil {
		t.Fatal("fresh agent has an id")
	}
	ta.register(t, "m1-S3")
	if got := ta.state(t).GetAgentInfo().GetId().GetValue(); got != "m1-S3" {
		t.Fatalf("id %q", got)
	}
	workDir := ta.cfg.WorkDir
	ta.stop()
	again := startAgent(t, func(c *Config, _ *fakeContainerizer) { c.WorkDir = workDir })
	if got := again.state(t).GetAgentInfo().GetId().GetValue(); got != "m1-S3" {
		t.Fatalf("restarted agent id %q, want m1-S3", got)
	}
}

func TestLeftoverContainersDestroyed(t *testing.T) {
	ta := startAgent(t, func(_ *Config, f *fakeContainerizer) { f.leftovers = []ids.ContainerID{"old-1", "old-2"} })
	for _, id := range []ids.ContainerID{"old-1", "old-2"} {
		if ta.ctr.destroyCount(id) != 1 {
			t.Fatalf("leftover %s not destroyed", id)
		}
	}
}

func TestShutdownDestroysContainers(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	spec := ta.launched(t)
	ta.stop()
	if ta.ctr.destroyCount(spec.ID) == 0 {
		t.Fatal("running container survived the agent's shutdown")
	}
}

func TestLaunchFailure(t *testing.T) {
	ta := startAgent(t, func(_ *Config, f *fakeContainerizer) { f.launchErr = os.ErrPermission })
	ta.register(t, "m1-S1")
	ta.run(t, commandTask("t1", "cpus:0.5;mem:64"))
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED {
		t.Fatalf("reason %s", u.GetStatus().GetReason())
	}
}

func ptr[T any](v T) *T { return &v }
