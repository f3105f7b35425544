package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

func TestProcExitCodeLogAndEnv(t *testing.T) {
	kerneltest.Root(t)
	t.Setenv("CAIRN_LEAK", "from-outside")
	c := New(t, Options{})
	n := c.Node(0)

	p := n.Start("sh", []string{"sh", "-c", `echo "pid=$$ leak=$CAIRN_LEAK mine=$CAIRN_MINE"; echo oops >&2; exit 7`},
		[]string{"CAIRN_MINE=given"})
	code, err := p.Wait(context.Background())
	if err != nil || code != 7 {
		t.Fatalf("Wait = %d, %v; want 7, nil", code, err)
	}
	want := fmt.Sprintf("pid=%d leak= mine=given\noops\n", p.Pid())
	if got := p.Log(); got != want {
		t.Errorf("Log = %q, want %q (pid: nsenter must exec, not fork; env: CAIRN_* of the test stripped)", got, want)
	}

	again := n.Start("sh", []string{"true"}, nil)
	if _, err := again.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again.LogPath == p.LogPath || !strings.Contains(p.Log(), "oops") {
		t.Errorf("restarting a name reused or clobbered %s", p.LogPath)
	}
}

func TestProcKillAndWait(t *testing.T) {
	kerneltest.Root(t)
	c := New(t, Options{})
	argv, env := helper(t, "stubborn")
	p := c.Node(0).Start("stubborn", argv, env)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Wait(ctx); err == nil {
		t.Fatal("Wait with a cancelled context returned no error for a running process")
	}
	if err := p.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code, err := p.Wait(context.Background())
	if err != nil || code != 128+int(syscall.SIGKILL) {
		t.Fatalf("Wait = %d, %v; want %d, nil", code, err, 128+int(syscall.SIGKILL))
	}
	if err := p.Kill(syscall.SIGTERM); err != nil {
		t.Errorf("Kill after exit = %v, want nil", err)
	}
}

// TestCleanupRemovesEverything runs a cluster in a subtest, with a process
// that ignores SIGTERM and an orphan that no Proc tracks, and checks that none
// of its objects or processes outlive the subtest.
func TestCleanupRemovesEverything(t *testing.T) {
	kerneltest.Root(t)
	var id string
	var pids []int
	t.Run("cluster", func(t *testing.T) {
		c := New(t, Options{Nodes: 3})
		id = c.ID
		for _, ns := range c.netnsNames() {
			if !strings.HasPrefix(ns, id+"-") {
				t.Fatalf("netns %s is not named after cluster %s", ns, id)
			}
		}
		if got := len(namesWithPrefix(t, id)); got != 4 {
			t.Fatalf("found %d netns of %s, want 4 (hub and 3 nodes)", got, id)
		}
		argv, env := helper(t, "stubborn")
		stubborn := c.Node(1).Start("stubborn", argv, env)
		pids = append(pids, stubborn.Pid())
		orphan := c.Node(2).Start("orphan", []string{"sh", "-c", `"$0" stubborn >/dev/null & echo $!`, argv[0]}, env)
		if _, err := orphan.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(orphan.Log()))
		if err != nil {
			t.Fatalf("orphan pid: %v", err)
		}
		pids = append(pids, pid)
		Eventually(t, 10*time.Second, func() error {
			if !strings.Contains(stubborn.Log(), "ready") {
				return fmt.Errorf("stubborn helper not ready (it must ignore SIGTERM before cleanup)")
			}
			return nil
		})
	})
	if left := namesWithPrefix(t, id); len(left) != 0 {
		t.Errorf("netns left after cleanup: %v", left)
	}
	if _, err := os.Stat("/sys/class/net/" + id); err == nil {
		t.Errorf("root-side veth %s left after cleanup", id)
	}
	if _, err := os.Stat(statePath(id)); err == nil {
		t.Errorf("state file %s left after cleanup", statePath(id))
	}
	for _, pid := range pids {
		Eventually(t, 10*time.Second, func() error {
			if _, err := startTime(pid); err == nil {
				return fmt.Errorf("process %d still runs after cleanup", pid)
			}
			return nil
		})
	}
}

func namesWithPrefix(t *testing.T, id string) []string {
	t.Helper()
	all, err := listNetns()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ns := range all {
		if strings.HasPrefix(ns, id) {
			names = append(names, ns)
		}
	}
	return names
}

// failedTB is a test that reports itself failed and records what is logged.
type failedTB struct {
	*testing.T
	logs *[]string
}

func (failedTB) Failed() bool { return true }
func (f failedTB) Logf(format string, args ...any) {
	*f.logs = append(*f.logs, fmt.Sprintf(format, args...))
}

func TestFailedTestPrintsLogTails(t *testing.T) {
	kerneltest.Root(t)
	var logs []string
	t.Run("cluster", func(t *testing.T) {
		c := New(failedTB{T: t, logs: &logs}, Options{})
		p := c.Node(0).Start("chatty", []string{"sh", "-c", `i=1; while [ $i -le 150 ]; do echo "line $i"; i=$((i+1)); done; exit 3`}, nil)
		if _, err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	all := strings.Join(logs, "\n")
	for _, want := range []string{"chatty", "exit 3", "[... 50 earlier lines]\nline 51\n", "line 150"} {
		if !strings.Contains(all, want) {
			t.Errorf("failure output lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "line 50\n") {
		t.Errorf("failure output has more than the last %d lines:\n%s", tailLines, all)
	}
}
