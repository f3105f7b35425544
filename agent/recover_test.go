package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/containerizer/fake"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// rig restarts agents in one test process: every agent it starts shares the
// work dir, the HTTP port (executors reconnect to it), the fake master and
// one containerizer/fake instance, whose containers (real child processes)
// outlive the agents as containers outlive a real agent process.
type rig struct {
	m   *fakeMaster
	ctr *fake.Containerizer
	cfg Config
}

func newRig(t *testing.T, edit func(*Config)) *rig {
	m := newFakeMaster(t)
	r := &rig{m: m, ctr: fake.New(), cfg: testConfig(t, m)}
	r.cfg.BootID = "boot-1"
	r.cfg.Strict = true
	r.cfg.ExecutorReregistrationTimeout = 5 * time.Second
	// Resends only when the tests cause them (a registration), so that
	// every update the master sees is the one a test waits for.
	r.cfg.StatusUpdateRetryMin, r.cfg.StatusUpdateRetryMax = time.Minute, time.Minute
	if edit != nil {
		edit(&r.cfg)
	}
	t.Cleanup(func() {
		ids, _ := r.ctr.Containers()
		for _, id := range ids {
			r.ctr.Destroy(context.Background(), id)
		}
	})
	return r
}

// start runs a new agent on the rig and registers it as m1-S1.
func (r *rig) start(t *testing.T) *testAgent {
	t.Helper()
	a, err := New(r.cfg, testLogger(), WithContainerizer(r.ctr))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, r.m)
	r.cfg.Port = int(a.Addr().Port())
	ta.register(t, "m1-S1")
	return ta
}

func checkpointing() *mesospb.FrameworkInfo {
	fw := fwInfo()
	fw.Id = &mesospb.FrameworkID{Value: proto.String("fwc")}
	fw.Checkpoint = proto.Bool(true)
	return fw
}

func (ta *testAgent) runFor(t *testing.T, fw *mesospb.FrameworkInfo, tasks ...*mesospb.TaskInfo) {
	ta.post(t, "/internal/v1/run_tasks", &internalpb.RunTasks{FrameworkInfo: fw, Tasks: tasks})
}

// nextFor returns the master's next update for task, acknowledging none.
func (m *fakeMaster) nextFor(t *testing.T, task string, state mesospb.TaskState) *internalpb.StatusUpdate {
	t.Helper()
	u := m.next(t)
	expectUpdate(t, u, task, state)
	return u
}

// subscribeRunning plays the executor of task: subscribe, take the LAUNCH,
// report RUNNING (acknowledged by the framework through the master).
func subscribeRunning(t *testing.T, ta *testAgent, fw, exec, task string, n byte) *testExecutor {
	ex := ta.executor(t, fw, exec)
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)
	if code := ex.update(task, mesospb.TaskState_TASK_RUNNING, uuidN(n)); code != 202 {
		t.Fatalf("update: %d", code)
	}
	ex.expect(executorpb.Event_ACKNOWLEDGED)
	ta.ack(t, ta.master.nextFor(t, task, mesospb.TaskState_TASK_RUNNING))
	return ex
}

func (ta *testAgent) task(t *testing.T, id string) *mesospb.Task {
	for _, tk := range ta.state(t).GetTasks() {
		if tk.GetTaskId().GetValue() == id {
			return tk
		}
	}
	return nil
}

// containerOf finds the running container of executor exec (the executor
// may subscribe before Launch has returned).
func containerOf(t *testing.T, ctr *fake.Containerizer, exec string) ids.ContainerID {
	t.Helper()
	var id ids.ContainerID
	eventually(t, "container of executor "+exec, func() bool {
		list, _ := ctr.Containers()
		for _, c := range list {
			if s, ok := ctr.Spec(c); ok && slices.Contains(s.Env, "MESOS_EXECUTOR_ID="+exec) {
				id = c
				return true
			}
		}
		return false
	})
	return id
}

func alive(ctr *fake.Containerizer, id ids.ContainerID) bool {
	list, _ := ctr.Containers()
	for _, c := range list {
		if c == id {
			return true
		}
	}
	return false
}

// TestRestartRecoversCheckpointedExecutor: the executor of a checkpointing
// framework outlives its agent; the next agent re-attaches, resends the
// update the framework had not acknowledged, lets the executor re-subscribe
// without launching its task again, and carries on. The executor of a
// framework that does not checkpoint is gone.
func TestRestartRecoversCheckpointedExecutor(t *testing.T) {
	r := newRig(t, nil)
	a := r.start(t)
	a.runFor(t, checkpointing(), customExecutorTask("tc", "ec", "sleep 60"))
	a.run(t, customExecutorTask("tn", "en", "sleep 60"))
	exc := subscribeRunning(t, a, "fwc", "ec", "tc", 1)
	subscribeRunning(t, a, "fw1", "en", "tn", 2)
	// An update the framework never acknowledges: it must survive.
	if code := exc.update("tc", mesospb.TaskState_TASK_RUNNING, uuidN(3)); code != 202 {
		t.Fatalf("update: %d", code)
	}
	pending := a.master.nextFor(t, "tc", mesospb.TaskState_TASK_RUNNING)
	cc, cn := containerOf(t, r.ctr, "ec"), containerOf(t, r.ctr, "en")
	a.stop()
	if !alive(r.ctr, cc) {
		t.Fatal("the checkpointing framework's container did not outlive the agent")
	}
	if alive(r.ctr, cn) {
		t.Fatal("the other framework's container outlived the agent")
	}

	b := r.start(t)
	u := b.master.nextFor(t, "tc", mesospb.TaskState_TASK_RUNNING)
	if string(u.GetStatus().GetUuid()) != string(pending.GetStatus().GetUuid()) {
		t.Fatalf("resent update has uuid %x, want %x", u.GetStatus().GetUuid(), pending.GetStatus().GetUuid())
	}
	if tk := b.task(t, "tc"); tk == nil || tk.GetState() != mesospb.TaskState_TASK_RUNNING {
		t.Fatalf("recovered task in AgentState: %v", tk)
	}
	if tk := b.task(t, "tn"); tk != nil {
		t.Fatalf("task of a non-checkpointing framework reported after restart: %v", tk)
	}
	ex := b.executor(t, "fwc", "ec")
	ex.subscribe()
	if ev := ex.expect(executorpb.Event_SUBSCRIBED); ev.GetSubscribed().GetContainerId().GetValue() != string(cc) {
		t.Fatalf("subscribed to container %v, want %s", ev.GetSubscribed().GetContainerId(), cc)
	}
	b.ack(t, u)
	// A duplicate of an update the old agent checkpointed is recognised.
	if code := ex.update("tc", mesospb.TaskState_TASK_RUNNING, uuidN(3)); code != 202 {
		t.Fatalf("duplicate update: %d", code)
	}
	ex.expect(executorpb.Event_ACKNOWLEDGED)
	if code := ex.update("tc", mesospb.TaskState_TASK_FINISHED, uuidN(4)); code != 202 {
		t.Fatalf("update: %d", code)
	}
	if ev := ex.next(); ev.GetType() != executorpb.Event_ACKNOWLEDGED {
		t.Fatalf("event %v after the update: no LAUNCH may come again", ev)
	}
	b.ack(t, b.master.nextFor(t, "tc", mesospb.TaskState_TASK_FINISHED))
	r.ctr.Destroy(context.Background(), cc) // the executor exits
	eventually(t, "executor released and its checkpoint forgotten", func() bool {
		_, err := os.Stat(filepath.Join(r.cfg.WorkDir, "meta/slaves/m1-S1/frameworks/fwc"))
		return len(b.state(t).GetTasks()) == 0 && errors.Is(err, os.ErrNotExist)
	})
	select {
	case u := <-r.m.updates:
		t.Fatalf("unexpected update %v", u.GetStatus())
	default:
	}
}

// TestRestartFates: what the next agent reports for executors that cannot
// carry on.
func TestRestartFates(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Config)
		before func(t *testing.T, r *rig, a *testAgent, c ids.ContainerID) // after RUNNING, before the stop
		down   func(t *testing.T, r *rig, c ids.ContainerID)               // while no agent runs
		state  mesospb.TaskState
		reason mesospb.TaskStatus_Reason
		msg    string
	}{
		{name: "executor never re-subscribes",
			edit:  func(c *Config) { c.ExecutorReregistrationTimeout = 200 * time.Millisecond },
			state: mesospb.TaskState_TASK_FAILED, reason: mesospb.TaskStatus_REASON_EXECUTOR_REREGISTRATION_TIMEOUT, msg: "re-subscribe"},
		{name: "executor died while the agent was down",
			down:  func(t *testing.T, r *rig, c ids.ContainerID) { r.ctr.Destroy(context.Background(), c) },
			state: mesospb.TaskState_TASK_FAILED, reason: mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED, msg: "while the agent was down"},
		{name: "executor reported the end, then died while the agent was down",
			before: func(t *testing.T, r *rig, a *testAgent, c ids.ContainerID) {
				ex := a.executor(t, "fwc", "ec")
				ex.subscribe()
				ex.expect(executorpb.Event_SUBSCRIBED)
				if code := ex.update("tc", mesospb.TaskState_TASK_FINISHED, uuidN(9)); code != 202 {
					t.Fatalf("update: %d", code)
				}
				a.master.nextFor(t, "tc", mesospb.TaskState_TASK_FINISHED) // never acknowledged
			},
			down:  func(t *testing.T, r *rig, c ids.ContainerID) { r.ctr.Destroy(context.Background(), c) },
			state: mesospb.TaskState_TASK_FINISHED},
		{name: "host rebooted",
			edit:  func(c *Config) {},
			down:  func(t *testing.T, r *rig, c ids.ContainerID) { r.cfg.BootID = "boot-2" },
			state: mesospb.TaskState_TASK_LOST, reason: mesospb.TaskStatus_REASON_AGENT_RESTARTED, msg: "rebooted"},
		{name: "recover=cleanup",
			down:  func(t *testing.T, r *rig, c ids.ContainerID) { r.cfg.Recover = "cleanup" },
			state: mesospb.TaskState_TASK_FAILED, reason: mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED, msg: "cleanup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.edit)
			a := r.start(t)
			a.runFor(t, checkpointing(), customExecutorTask("tc", "ec", "sleep 60"))
			subscribeRunning(t, a, "fwc", "ec", "tc", 1)
			c := containerOf(t, r.ctr, "ec")
			if tc.before != nil {
				tc.before(t, r, a, c)
			}
			a.stop()
			if tc.down != nil {
				tc.down(t, r, c)
			}
			b := r.start(t)
			u := b.master.nextFor(t, "tc", tc.state)
			if tc.reason != 0 && u.GetStatus().GetReason() != tc.reason || !strings.Contains(u.GetStatus().GetMessage(), tc.msg) {
				t.Fatalf("status %v, want reason %s and a message with %q", u.GetStatus(), tc.reason, tc.msg)
			}
			eventually(t, "container gone", func() bool { return !alive(r.ctr, c) })
			b.ack(t, u)
			eventually(t, "executor released", func() bool { return len(b.state(t).GetTasks()) == 0 })
		})
	}
}

func TestUnknownLeftoverContainerDestroyed(t *testing.T) {
	r := newRig(t, nil)
	// A container no checkpoint accounts for: a non-checkpointing
	// framework's, left by an agent that was killed.
	if _, err := r.ctr.Launch(context.Background(), containerizer.Spec{ID: "stray", Sandbox: t.TempDir(), Args: []string{"/bin/sleep", "60"}}); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	if alive(r.ctr, "stray") {
		t.Fatal("stray container survived recovery")
	}
}

// TestCorruptCheckpoint: with --strict a corrupt checkpoint stops the
// start and names the file; without, it is skipped and counted.
func TestCorruptCheckpoint(t *testing.T) {
	r := newRig(t, nil)
	a := r.start(t)
	a.runFor(t, checkpointing(), customExecutorTask("tc", "ec", "sleep 60"))
	subscribeRunning(t, a, "fwc", "ec", "tc", 1)
	a.stop()
	infos, _ := filepath.Glob(filepath.Join(r.cfg.WorkDir, "meta/slaves/m1-S1/frameworks/fwc/executors/ec/runs/*/tasks/tc/task.info"))
	if len(infos) != 1 {
		t.Fatalf("task.info files: %v", infos)
	}
	b, _ := os.ReadFile(infos[0])
	b[len(b)-1] ^= 0xff
	os.WriteFile(infos[0], b, 0o644)

	strict, err := New(r.cfg, testLogger(), WithContainerizer(r.ctr))
	if err != nil {
		t.Fatal(err)
	}
	err = strict.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "task.info") || !strings.Contains(err.Error(), "strict") {
		t.Fatalf("strict start with a corrupt checkpoint: %v", err)
	}

	r.cfg.Strict = false
	lax := r.start(t)
	if lax.RecoveryErrors() != 1 {
		t.Fatalf("recovery errors %d, want 1", lax.RecoveryErrors())
	}
	if tk := lax.task(t, "tc"); tk != nil {
		t.Fatalf("task with a corrupt task.info recovered: %v", tk)
	}
}

func TestIncompatibleWorkDir(t *testing.T) {
	r := newRig(t, nil)
	os.MkdirAll(filepath.Join(r.cfg.WorkDir, "meta"), 0o755)
	os.WriteFile(filepath.Join(r.cfg.WorkDir, "meta/version"), []byte("cairn-agent-checkpoint/99\n"), 0o644)
	_, err := New(r.cfg, testLogger(), WithContainerizer(r.ctr))
	if !errors.Is(err, checkpoint.ErrVersion) || !strings.Contains(err.Error(), "meta/version") {
		t.Fatalf("New on an incompatible work dir: %v", err)
	}
}

func TestKillAllOnStop(t *testing.T) {
	r := newRig(t, nil)
	a := r.start(t)
	a.runFor(t, checkpointing(), customExecutorTask("tc", "ec", "sleep 60"))
	subscribeRunning(t, a, "fwc", "ec", "tc", 1)
	a.KillAllOnStop()
	a.stop()
	if list, _ := r.ctr.Containers(); len(list) != 0 {
		t.Fatalf("containers after a kill-all stop: %v", list)
	}
}

// fullDisk is a checkpoint file system whose writes fail with ENOSPC while
// full is set.
type fullDisk struct {
	checkpoint.OS
	full *atomic.Bool
}

type fullFile struct {
	checkpoint.File
	full *atomic.Bool
}

func (d fullDisk) OpenFile(name string, flag int) (checkpoint.File, error) {
	f, err := d.OS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return fullFile{f, d.full}, nil
}

func (f fullFile) Write(b []byte) (int, error) {
	if f.full.Load() {
		return 0, syscall.ENOSPC
	}
	return f.File.Write(b)
}

// TestDiskFull: a launch whose checkpoint cannot be written does not
// happen and its task fails; an update that cannot be checkpointed is
// refused and its executor's tasks fail. Nothing half-written is recovered.
func TestDiskFull(t *testing.T) {
	var full atomic.Bool
	r := newRig(t, func(c *Config) { c.CheckpointFS = fullDisk{full: &full} })
	a := r.start(t)

	full.Store(true)
	a.runFor(t, checkpointing(), customExecutorTask("t1", "e1", "sleep 60"))
	u := a.master.nextFor(t, "t1", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED || !strings.Contains(u.GetStatus().GetMessage(), "no space left") {
		t.Fatalf("status %v", u.GetStatus())
	}
	if list, _ := r.ctr.Containers(); len(list) != 0 {
		t.Fatalf("containers launched without a checkpoint: %v", list)
	}
	a.ack(t, u)

	full.Store(false)
	a.runFor(t, checkpointing(), customExecutorTask("t2", "e2", "sleep 60"))
	ex := subscribeRunning(t, a, "fwc", "e2", "t2", 1)
	c := containerOf(t, r.ctr, "e2")
	full.Store(true)
	if code := ex.update("t2", mesospb.TaskState_TASK_FINISHED, uuidN(2)); code != 507 {
		t.Fatalf("update that cannot be checkpointed answered %d, want 507", code)
	}
	u = a.master.nextFor(t, "t2", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED || !strings.Contains(u.GetStatus().GetMessage(), "checkpoint") {
		t.Fatalf("status %v", u.GetStatus())
	}
	eventually(t, "executor destroyed", func() bool { return !alive(r.ctr, c) })
	full.Store(false)
	a.stop()

	// The next agent trusts what was written: t2 was RUNNING when the disk
	// filled up, and its container is gone.
	b := r.start(t)
	if b.RecoveryErrors() != 0 {
		t.Fatalf("recovery errors %d after a full disk", b.RecoveryErrors())
	}
	u = b.master.nextFor(t, "t2", mesospb.TaskState_TASK_FAILED)
	if tk := b.task(t, "t1"); tk != nil {
		t.Fatalf("task never checkpointed is recovered: %v", tk)
	}
}
