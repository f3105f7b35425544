package executor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
)

// startExecutor runs an executor against a and returns the channel Run's
// result arrives on.
func startExecutor(t *testing.T, a *fakeAgent, mod func(*Config)) (<-chan error, string) {
	t.Helper()
	sandbox := t.TempDir()
	env := append(os.Environ(),
		"MESOS_AGENT_ENDPOINT="+a.endpoint(),
		"MESOS_FRAMEWORK_ID=fw-0000",
		"MESOS_EXECUTOR_ID=task-1",
		"MESOS_SANDBOX="+sandbox,
		"MESOS_DIRECTORY="+sandbox,
		"MESOS_CHECKPOINT=0",
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs",
	)
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AckWait = time.Minute // the tests wait for acknowledgements, not for this
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		done <- e.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	recv(t, a.subs, "SUBSCRIBE")
	return done, sandbox
}

func TestCommandExitStatus(t *testing.T) {
	for _, json := range []bool{false, true} {
		t.Run(map[bool]string{false: "protobuf", true: "json"}[json], func(t *testing.T) {
			a := newFakeAgent(t)
			done, _ := startExecutor(t, a, func(c *Config) { c.JSON = json })
			a.launch(shellTask("task-1", "echo hi; exit 3"))
			a.expect(mesospb.TaskState_TASK_STARTING, "")
			running := a.expect(mesospb.TaskState_TASK_RUNNING, "")
			if running.GetContainerStatus().GetExecutorPid() == 0 {
				t.Errorf("TASK_RUNNING has no executor_pid")
			}
			a.expect(mesospb.TaskState_TASK_FAILED, "Command exited with status 3")
			if err := recv(t, done, "executor exit"); err != nil {
				t.Fatalf("Run = %v", err)
			}
		})
	}
}

func TestCommandFinished(t *testing.T) {
	a := newFakeAgent(t)
	done, _ := startExecutor(t, a, nil)
	task := shellTask("task-1", `test "$FOO" = bar && test "$(pwd)" = "$MESOS_SANDBOX"`)
	task.Command.Environment = &mesospb.Environment{Variables: []*mesospb.Environment_Variable{
		{Name: proto.String("FOO"), Value: proto.String("bar")},
	}}
	a.launch(task)
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.expect(mesospb.TaskState_TASK_FINISHED, "Command exited with status 0")
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestCommandWithoutShell(t *testing.T) {
	a := newFakeAgent(t)
	startExecutor(t, a, nil)
	task := shellTask("task-1", "sh")
	task.Command.Shell = proto.Bool(false)
	task.Command.Arguments = []string{"sh", "-c", "exit 7"}
	a.launch(task)
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.expect(mesospb.TaskState_TASK_FAILED, "Command exited with status 7")
}

func TestExecFailure(t *testing.T) {
	a := newFakeAgent(t)
	startExecutor(t, a, nil)
	task := shellTask("task-1", "/nonexistent/binary")
	task.Command.Shell = proto.Bool(false)
	a.launch(task)
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	st := a.expect(mesospb.TaskState_TASK_FAILED, "")
	if !strings.Contains(st.GetMessage(), "no such file") {
		t.Fatalf("message = %q, want it to say the file does not exist", st.GetMessage())
	}
}

func TestSecondLaunchIsAnError(t *testing.T) {
	a := newFakeAgent(t)
	startExecutor(t, a, nil)
	a.launch(shellTask("task-1", "sleep 100"))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.launch(shellTask("task-2", "true"))
	st := a.expect(mesospb.TaskState_TASK_ERROR, "the command executor runs one task")
	if st.GetTaskId().GetValue() != "task-2" {
		t.Fatalf("TASK_ERROR for %q, want task-2", st.GetTaskId().GetValue())
	}
}

func TestKill(t *testing.T) {
	a := newFakeAgent(t)
	a.fw.Capabilities = []*mesospb.FrameworkInfo_Capability{
		{Type: mesospb.FrameworkInfo_Capability_TASK_KILLING_STATE.Enum()},
	}
	done, _ := startExecutor(t, a, nil)
	a.launch(shellTask("task-1", "sleep 100"))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.kill("task-1", time.Minute)
	a.expect(mesospb.TaskState_TASK_KILLING, "")
	a.expect(mesospb.TaskState_TASK_KILLED, "Command terminated with signal Terminated")
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestKillEscalatesToSIGKILL(t *testing.T) {
	a := newFakeAgent(t)
	_, sandbox := startExecutor(t, a, nil)
	a.launch(shellTask("task-1", `trap "" TERM; touch ready; while :; do sleep 1; done`))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	waitFile(t, filepath.Join(sandbox, "ready"))
	a.kill("task-1", 100*time.Millisecond)
	// Without TASK_KILLING_STATE there is no TASK_KILLING.
	a.expect(mesospb.TaskState_TASK_KILLED, "Command terminated with signal Killed")
}

func TestShutdown(t *testing.T) {
	a := newFakeAgent(t)
	done, _ := startExecutor(t, a, nil)
	a.launch(shellTask("task-1", "sleep 100"))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.send(shutdownEvent())
	a.expect(mesospb.TaskState_TASK_KILLED, "")
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestUnacknowledgedUpdatesResentAfterReconnect(t *testing.T) {
	a := newFakeAgent(t)
	a.noAck.Store(true)
	done, _ := startExecutor(t, a, func(c *Config) { c.Checkpoint = true })
	a.launch(shellTask("task-1", "exit 0"))
	var sent [][]byte
	for _, s := range []mesospb.TaskState{mesospb.TaskState_TASK_STARTING, mesospb.TaskState_TASK_RUNNING, mesospb.TaskState_TASK_FINISHED} {
		sent = append(sent, a.expect(s, "").GetUuid())
	}
	a.drop()
	sub := recv(t, a.subs, "re-SUBSCRIBE")
	if got := sub.GetUnacknowledgedUpdates(); len(got) != len(sent) {
		t.Fatalf("re-SUBSCRIBE carries %d unacknowledged updates, want %d", len(got), len(sent))
	}
	for i, u := range sub.GetUnacknowledgedUpdates() {
		if string(u.GetStatus().GetUuid()) != string(sent[i]) {
			t.Errorf("unacknowledged update %d has another uuid", i)
		}
	}
	if len(sub.GetUnacknowledgedTasks()) != 1 {
		t.Errorf("re-SUBSCRIBE carries %d unacknowledged tasks, want 1", len(sub.GetUnacknowledgedTasks()))
	}
	// The updates are also posted again; acknowledge them now.
	for range sent {
		a.ack(recv(t, a.updates, "resent update"))
	}
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestAgentLostWithoutCheckpointKillsTask(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startExecutor(t, a, nil)
	a.launch(shellTask("task-1", `echo $$ > pid; exec sleep 100`))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	pid := readPid(t, filepath.Join(sandbox, "pid"))
	a.drop()
	if err := recv(t, done, "executor exit"); err == nil {
		t.Fatal("Run = nil, want an error saying the agent is gone")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("task process %d still exists after the executor exited (kill 0: %v)", pid, err)
	}
}

func TestConfigFromEnvNamesBadVariable(t *testing.T) {
	base := map[string]string{
		"MESOS_AGENT_ENDPOINT": "127.0.0.1:5051",
		"MESOS_FRAMEWORK_ID":   "fw",
		"MESOS_EXECUTOR_ID":    "ex",
		"MESOS_SANDBOX":        "/tmp",
	}
	cases := []struct{ name, key, value string }{
		{"missing agent endpoint", "MESOS_AGENT_ENDPOINT", ""},
		{"missing framework id", "MESOS_FRAMEWORK_ID", ""},
		{"missing executor id", "MESOS_EXECUTOR_ID", ""},
		{"missing sandbox", "MESOS_SANDBOX", ""},
		{"endpoint without port", "MESOS_AGENT_ENDPOINT", "localhost"},
		{"bad checkpoint", "MESOS_CHECKPOINT", "yes please"},
		{"bad grace period", "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "soon"},
		{"bad backoff", "MESOS_SUBSCRIPTION_BACKOFF_MAX", "-1secs"},
		{"bad recovery timeout", "MESOS_RECOVERY_TIMEOUT", "15"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			for k, v := range base {
				if k != tc.key {
					env = append(env, k+"="+v)
				}
			}
			if tc.value != "" {
				env = append(env, tc.key+"="+tc.value)
			}
			_, err := ConfigFromEnv(env)
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("ConfigFromEnv error = %v, want one naming %s", err, tc.key)
			}
		})
	}
	env := []string{"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=7secs", "MESOS_CHECKPOINT=1"}
	for k, v := range base {
		env = append(env, k+"="+v)
	}
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownGracePeriod != 7*time.Second || !cfg.Checkpoint || cfg.RecoveryTimeout != defaultRecoveryTimeout {
		t.Fatalf("config = %+v", cfg)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	waitFile(t, path)
	for {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An update the agent refuses (400) is not kept for resending, so a
// finished task's executor exits instead of waiting for an ack that cannot
// come (the test's AckWait is longer than its timeout).
func TestRefusedUpdatesAreNotWaitedFor(t *testing.T) {
	a := newFakeAgent(t)
	a.refuse.Store(true)
	done, _ := startExecutor(t, a, nil)
	a.launch(shellTask("task-1", "exit 0"))
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// A checkpointing executor retries a lost agent, but an agent that answers
// and refuses the subscription (400) is final.
func TestRefusedSubscriptionIsFinal(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startExecutor(t, a, func(c *Config) { c.Checkpoint = true })
	a.launch(shellTask("task-1", `echo $$ > pid; exec sleep 100`))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	pid := readPid(t, filepath.Join(sandbox, "pid"))
	a.refuseSubscribe.Store(true)
	a.drop()
	if err := recv(t, done, "executor exit"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Run = %v, want an error saying the agent refused", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("task process %d still exists after the executor exited (kill 0: %v)", pid, err)
	}
}

// A checkpointing executor whose agent stays away past the recovery
// timeout kills its task and exits.
func TestRecoveryTimeout(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startExecutor(t, a, func(c *Config) {
		c.Checkpoint = true
		c.RecoveryTimeout = 300 * time.Millisecond
	})
	a.launch(shellTask("task-1", `echo $$ > pid; exec sleep 100`))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	pid := readPid(t, filepath.Join(sandbox, "pid"))
	a.drop()
	a.srv.Close() // re-subscriptions now fail to connect
	if err := recv(t, done, "executor exit"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Run = %v, want an error saying the agent stayed unreachable", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("task process %d still exists after the executor exited (kill 0: %v)", pid, err)
	}
}

// A checkpointing executor whose task ends while the agent is restarting
// keeps the terminal update past AckWait and hands it to the agent when
// that comes back, so the task's real outcome is not lost.
func TestTerminalUpdateWaitsForRestartingAgent(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startExecutor(t, a, func(c *Config) {
		c.Checkpoint = true
		c.AckWait = 50 * time.Millisecond
		c.SubscriptionBackoffMax = 20 * time.Millisecond
	})
	a.launch(shellTask("task-1", `while [ ! -e go ]; do sleep 0.01; done; echo > gone; exit 3`))
	a.expect(mesospb.TaskState_TASK_STARTING, "")
	a.expect(mesospb.TaskState_TASK_RUNNING, "")
	a.down.Store(true)
	a.drop()
	if err := os.WriteFile(filepath.Join(sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(sandbox, "gone"))
	// Several AckWaits pass while the agent is away.
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("executor exited (%v) while the agent was away with its terminal update", err)
	default:
	}
	a.down.Store(false)
	sub := recv(t, a.subs, "re-SUBSCRIBE")
	var failed bool
	for _, u := range sub.GetUnacknowledgedUpdates() {
		failed = failed || u.GetStatus().GetState() == mesospb.TaskState_TASK_FAILED && strings.Contains(u.GetStatus().GetMessage(), "status 3")
	}
	if !failed {
		t.Fatalf("re-SUBSCRIBE lacks the terminal update: %v", sub.GetUnacknowledgedUpdates())
	}
	for {
		st := recv(t, a.updates, "resent update")
		a.ack(st)
		if st.GetState() == mesospb.TaskState_TASK_FAILED {
			break
		}
	}
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}
