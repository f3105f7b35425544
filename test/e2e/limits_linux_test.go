package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMemoryLimit runs a task that needs far more memory than it asked for:
// the kernel kills it and the agent says why.
func TestMemoryLimit(t *testing.T) {
	e := newEnv(t, 1)
	e.startDev(0)
	e.waitAgentsCLI(0, 1)
	code, out := e.cli("run-oom", 0, "run", "--mem=64", "--", "sh", "-c", "head -c 200m /dev/zero | tail")
	if code == 0 || !strings.Contains(out, "is TASK_FAILED (REASON_CONTAINER_LIMITATION_MEMORY)") {
		t.Fatalf("cairn run --mem=64 of a 200 MB tail: exit %d, want TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY:\n%s", code, out)
	}
}

// cpuBound is the most a task of 0.5 cpus may use, in cores, over a few
// seconds of spinning.
const cpuBound = 0.55

// TestCPULimit spins a task of 0.5 cpus for 3 s and reads, from its
// sandbox, the CPU time its shell's children used.
func TestCPULimit(t *testing.T) {
	e := newEnv(t, 1)
	e.startDev(0)
	agent := e.waitAgentsCLI(0, 1)[0]
	const spin = 3.0
	code, out := e.cli("run-spin", 0, "run", "--cpus=0.5", "--", "sh", "-c",
		fmt.Sprintf(`timeout %g sh -c "while :; do :; done"; times`, spin))
	if code != 0 {
		t.Fatalf("spinning task: exit %d\n%s", code, out)
	}
	fw := regexp.MustCompile(`Subscribed as framework (\S+)`).FindStringSubmatch(out)
	if fw == nil {
		t.Fatalf("cairn run did not name its framework:\n%s", out)
	}
	stdout := filepath.Join(e.dir, "dev", "agent", "slaves", agent, "frameworks", fw[1], "executors",
		launchedTask(t, out), "runs", "latest", "stdout")
	b, err := os.ReadFile(stdout)
	if err != nil {
		t.Fatal(err)
	}
	user, sys, err := childTimes(string(b))
	if err != nil {
		t.Fatalf("%v in %s:\n%s", err, stdout, b)
	}
	cores := (user + sys) / spin
	t.Logf("a task of 0.5 cpus spinning for %gs used %.3fs user + %.3fs system = %.3f cores", spin, user, sys, cores)
	if cores > cpuBound {
		t.Errorf("task of 0.5 cpus used %.3f cores, want ≤ %v", cores, cpuBound)
	}
	if cores < 0.1 {
		t.Errorf("task used %.3f cores: it did not spin, so the limit was not tested", cores)
	}
}

var timesRE = regexp.MustCompile(`(?m)^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$`)

// childTimes parses the second line of dash's `times`: the user and system
// time of the shell's children, in seconds.
func childTimes(out string) (user, sys float64, err error) {
	lines := timesRE.FindAllStringSubmatch(out, -1)
	if len(lines) < 2 {
		return 0, 0, fmt.Errorf("no output of times")
	}
	m := lines[len(lines)-1]
	secs := func(min, sec string) float64 {
		mv, _ := strconv.ParseFloat(min, 64)
		sv, _ := strconv.ParseFloat(sec, 64)
		return 60*mv + sv
	}
	return secs(m[1], m[2]), secs(m[3], m[4]), nil
}
