package executor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
)

func startDefault(t *testing.T, a *fakeAgent) (<-chan error, string) {
	t.Helper()
	return startExecutor(t, a, func(c *Config) { c.Default = true })
}

func states(s ...mesospb.TaskState) []mesospb.TaskState { return s }

var (
	starting = mesospb.TaskState_TASK_STARTING
	running  = mesospb.TaskState_TASK_RUNNING
	finished = mesospb.TaskState_TASK_FINISHED
	failed   = mesospb.TaskState_TASK_FAILED
	killing  = mesospb.TaskState_TASK_KILLING
	killed   = mesospb.TaskState_TASK_KILLED
)

func checkStates(t *testing.T, got map[string][]mesospb.TaskState, id string, want []mesospb.TaskState) {
	t.Helper()
	if !slices.Equal(got[id], want) {
		t.Errorf("task %s went %v, want %v", id, got[id], want)
	}
}

func TestGroupBothFinish(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startDefault(t, a)
	cmd := `echo "$MESOS_TASK_ID $MESOS_SANDBOX $(pwd)"; echo oops >&2`
	a.launchGroup(shellTask("a", cmd), shellTask("b", cmd))
	got := a.until(map[string]mesospb.TaskState{"a": finished, "b": finished})
	checkStates(t, got, "a", states(starting, running, finished))
	checkStates(t, got, "b", states(starting, running, finished))
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	for _, id := range []string{"a", "b"} {
		dir := filepath.Join(sandbox, "tasks", id)
		out, err := os.ReadFile(filepath.Join(dir, "stdout"))
		if err != nil {
			t.Fatal(err)
		}
		if want := id + " " + dir + " " + dir + "\n"; string(out) != want {
			t.Errorf("task %s stdout = %q, want %q", id, out, want)
		}
		if errOut, _ := os.ReadFile(filepath.Join(dir, "stderr")); string(errOut) != "oops\n" {
			t.Errorf("task %s stderr = %q, want oops", id, errOut)
		}
	}
}

func TestGroupFailureKillsTheRest(t *testing.T) {
	a := newFakeAgent(t)
	done, sandbox := startDefault(t, a)
	a.launchGroup(shellTask("sleeper", "touch ready; exec sleep 100"),
		shellTask("failer", `while [ ! -e ../sleeper/ready ]; do sleep 0.01; done; exit 1`))
	got := a.until(map[string]mesospb.TaskState{"sleeper": killed, "failer": failed})
	checkStates(t, got, "failer", states(starting, running, failed))
	checkStates(t, got, "sleeper", states(starting, running, killed))
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, err := os.Stat(filepath.Join(sandbox, "tasks", "sleeper", "ready")); err != nil {
		t.Fatalf("sleeper never ran: %v", err)
	}
}

// A second LAUNCH_GROUP joins the running executor; a failure in it takes
// down only its own group.
func TestSecondGroupOnSameExecutor(t *testing.T) {
	a := newFakeAgent(t)
	done, _ := startDefault(t, a)
	a.launchGroup(shellTask("first", "exec sleep 100"))
	checkStates(t, a.until(map[string]mesospb.TaskState{"first": running}), "first", states(starting, running))
	a.launchGroup(shellTask("second-ok", "exec sleep 100"), shellTask("second-bad", "exit 2"))
	got := a.until(map[string]mesospb.TaskState{"second-ok": killed, "second-bad": failed})
	checkStates(t, got, "second-bad", states(starting, running, failed))
	checkStates(t, got, "second-ok", states(starting, running, killed))
	if _, ok := got["first"]; ok {
		t.Fatalf("first group's task changed state: %v", got["first"])
	}
	select {
	case err := <-done:
		t.Fatalf("executor exited (%v) with a task still running", err)
	default:
	}
	a.kill("first", time.Minute)
	checkStates(t, a.until(map[string]mesospb.TaskState{"first": killed}), "first", states(killed))
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// KILL of one task kills it with its grace period and, as Mesos's default
// executor does for a TASK_KILLED member, the rest of its group; other
// groups keep running.
func TestGroupKillOneTask(t *testing.T) {
	a := newFakeAgent(t)
	a.fw.Capabilities = []*mesospb.FrameworkInfo_Capability{
		{Type: mesospb.FrameworkInfo_Capability_TASK_KILLING_STATE.Enum()},
	}
	startDefault(t, a)
	a.launchGroup(shellTask("other", "exec sleep 100"))
	a.until(map[string]mesospb.TaskState{"other": running})
	a.launchGroup(shellTask("stubborn", `trap "" TERM; touch ready; while :; do sleep 0.1; done`),
		shellTask("mate", "exec sleep 100"))
	a.until(map[string]mesospb.TaskState{"stubborn": running, "mate": running})
	a.kill("stubborn", 100*time.Millisecond)
	got := a.until(map[string]mesospb.TaskState{"stubborn": killed, "mate": killed})
	checkStates(t, got, "stubborn", states(killing, killed))
	checkStates(t, got, "mate", states(killing, killed))
	if _, ok := got["other"]; ok {
		t.Fatalf("another group's task changed state: %v", got["other"])
	}
}

func TestGroupShutdown(t *testing.T) {
	a := newFakeAgent(t)
	done, _ := startDefault(t, a)
	a.launchGroup(shellTask("a", "exec sleep 100"), shellTask("b", "exec sleep 100"))
	a.launchGroup(shellTask("c", "exec sleep 100"))
	a.until(map[string]mesospb.TaskState{"a": running, "b": running, "c": running})
	a.send(shutdownEvent())
	got := a.until(map[string]mesospb.TaskState{"a": killed, "b": killed, "c": killed})
	for _, id := range []string{"a", "b", "c"} {
		checkStates(t, got, id, states(killed))
	}
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// The command executor refuses groups, the default executor single tasks.
func TestExecutorTypesRefuseTheOtherLaunch(t *testing.T) {
	a := newFakeAgent(t)
	startExecutor(t, a, nil)
	a.launchGroup(shellTask("g", "true"))
	a.expect(mesospb.TaskState_TASK_ERROR, "the command executor does not run task groups")

	b := newFakeAgent(t)
	startDefault(t, b)
	b.launch(shellTask("l", "true"))
	b.expect(mesospb.TaskState_TASK_ERROR, "the default executor runs task groups only")
}

func TestGroupTaskThatCannotStartFailsItsGroup(t *testing.T) {
	a := newFakeAgent(t)
	done, _ := startDefault(t, a)
	bad := shellTask("bad", "/nonexistent/binary")
	bad.Command.Shell = new(bool)
	a.launchGroup(shellTask("good", "exec sleep 100"), bad)
	got := a.until(map[string]mesospb.TaskState{"good": killed, "bad": failed})
	checkStates(t, got, "bad", states(starting, failed))
	checkStates(t, got, "good", states(starting, running, killed))
	if err := recv(t, done, "executor exit"); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestConfigExecutorType(t *testing.T) {
	base := []string{"MESOS_AGENT_ENDPOINT=127.0.0.1:5051", "MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex", "MESOS_SANDBOX=/tmp"}
	cfg, err := ConfigFromEnv(append(base, ExecutorTypeEnv+"=default"))
	if err != nil || !cfg.Default {
		t.Fatalf("ConfigFromEnv = %+v, %v; want a default executor", cfg, err)
	}
	if slices.ContainsFunc(cfg.Env, func(kv string) bool { return strings.HasPrefix(kv, ExecutorTypeEnv) }) {
		t.Errorf("task environment keeps %s", ExecutorTypeEnv)
	}
	if _, err := ConfigFromEnv(append(base, ExecutorTypeEnv+"=custom")); err == nil || !strings.Contains(err.Error(), ExecutorTypeEnv) {
		t.Fatalf("ConfigFromEnv error = %v, want one naming %s", err, ExecutorTypeEnv)
	}
}
