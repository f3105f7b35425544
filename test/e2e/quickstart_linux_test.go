package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestQuickStartDev is the README's quick start: `cairn dev`, then `cairn
// run`, `cairn ps` and `cairn agents` on the same machine.
func TestQuickStartDev(t *testing.T) {
	e := newEnv(t, 1)
	e.startDev(0)
	agentID := e.waitAgentsCLI(0, 1)[0]

	code, out := e.cli("run-exit3", 0, "run", "--", "sh", "-c", "echo hello; exit 3")
	if code != 3 || !strings.Contains(out, "hello") {
		t.Fatalf("cairn run -- sh -c 'echo hello; exit 3': exit %d, want 3 and \"hello\" in:\n%s", code, out)
	}
	failed := launchedTask(t, out)

	code, out = e.cli("run-echo", 0, "run", "--", "echo", "hello")
	if code != 0 || !strings.Contains(out, "hello") {
		t.Fatalf("cairn run -- echo hello: exit %d, want 0 and \"hello\" in:\n%s", code, out)
	}
	finished := launchedTask(t, out)

	code, out = e.cli("ps", 0, "ps", "--all")
	if code != 0 {
		t.Fatalf("cairn ps --all: exit %d\n%s", code, out)
	}
	for _, want := range []string{"TASK", "STATE", failed + " ", finished + " ", "TASK_FAILED", "TASK_FINISHED"} {
		if !strings.Contains(out, want) {
			t.Errorf("cairn ps --all lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, finished+" ") && !strings.Contains(line, "TASK_FINISHED") {
			t.Errorf("cairn ps --all: task %s not TASK_FINISHED: %q", finished, line)
		}
	}

	code, out = e.cli("agents", 0, "agents")
	if code != 0 || !strings.Contains(out, "HOSTNAME") || !strings.Contains(out, agentID) {
		t.Errorf("cairn agents: exit %d, want a table with agent %s:\n%s", code, agentID, out)
	}
}

// TestSeedCommands runs exactly the two commands the README gives for a
// first cluster (plus a unique cgroups root and a runtime dir inside the
// test's scratch dir, for test hygiene).
func TestSeedCommands(t *testing.T) {
	e := newEnv(t, 1)
	e.start("master", 0, "master", "--ip=127.0.0.1", "--work_dir="+filepath.Join(e.dir, "master"), "--quorum=1")
	root := kerneltest.Name("cairn-e2e-")
	a := e.start("agent", 0, "agent", "--master=127.0.0.1:5050", "--work_dir="+filepath.Join(e.dir, "agent"),
		"--cgroups_root="+root, "--runtime_dir="+filepath.Join(e.dir, "agent-run"))
	t.Cleanup(func() { e.stopAgent(a, root) })
	e.waitAgentsCLI(0, 1)
	if code, out := e.cli("run-true", 0, "run", "--", "true"); code != 0 {
		t.Fatalf("cairn run -- true: exit %d\n%s", code, out)
	}
}

var (
	launchingRE = regexp.MustCompile(`Launching task (\S+)`)
	agentRowRE  = regexp.MustCompile(`(?m)^(\S+-S\d+)\s.*\btrue\b`)
)

func launchedTask(t *testing.T, out string) string {
	t.Helper()
	m := launchingRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("cairn run did not say which task it launched:\n%s", out)
	}
	return m[1]
}

// waitAgentsCLI runs `cairn agents` on node i (where the master listens on
// 127.0.0.1, out of the test process's reach) until it lists n active agents,
// and returns their ids.
func (e *env) waitAgentsCLI(i, n int) []string {
	e.t.Helper()
	var ids []string
	cluster.Eventually(e.t, startTimeout, func() error {
		code, out := e.cli("agents-wait", i, "agents")
		ids = ids[:0]
		for _, m := range agentRowRE.FindAllStringSubmatch(out, -1) {
			ids = append(ids, m[1])
		}
		if code != 0 || len(ids) != n {
			return fmt.Errorf("cairn agents: exit %d, %d of %d agents active:\n%s", code, len(ids), n, out)
		}
		return nil
	})
	return ids
}
