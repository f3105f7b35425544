package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

// crashTB stands in for a test in a helper process that dies mid-test: it
// records no cleanups, so whatever New built stays behind, as after a crash.
// The embedded nil TB makes any other method panic, which is fine for a helper.
type crashTB struct {
	testing.TB
	dir string
}

func (crashTB) Helper()                {}
func (crashTB) Cleanup(func())         {}
func (crashTB) Failed() bool           { return false }
func (tb crashTB) ArtifactDir() string { return tb.dir }
func (crashTB) Logf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
}
func (crashTB) Errorf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
}
func (crashTB) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(3)
}

// crash builds a two-node cluster with an orphan process (one that no
// PR_SET_PDEATHSIG covers) in node 1, prints "ID PID", and dies by SIGKILL
// once a line arrives on stdin: the parent takes the state lock first, so no
// other test process can sweep the leftovers before the parent looks at them.
func crash() int {
	dir, err := os.MkdirTemp("", "cairn-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir) // runs only if something below fails
	c := New(crashTB{dir: dir}, Options{Nodes: 2})
	exe, _ := os.Executable()
	sh := c.Node(1).Start("orphan", []string{"sh", "-c", `"$0" stubborn >/dev/null & echo $!`, exe}, []string{helperEnv + "=1"})
	if code, err := sh.Wait(context.Background()); code != 0 || err != nil {
		fmt.Fprintln(os.Stderr, "start orphan:", code, err, sh.Log())
		return 1
	}
	fmt.Println(c.ID, strings.TrimSpace(sh.Log()))
	os.RemoveAll(dir)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

func TestSweepRemovesCrashedRun(t *testing.T) {
	kerneltest.Root(t)
	live := New(t, Options{}) // a live cluster that Sweep must leave alone

	argv, env := helper(t, "crash")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("crash helper: %v", err)
	}
	unlock, err := lockState()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	fmt.Fprintln(stdin, "die")
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("crash helper: %v, want death by SIGKILL", err)
	}
	var id string
	var orphan int
	if _, err := fmt.Sscan(line, &id, &orphan); err != nil {
		t.Fatalf("crash helper output %q: %v", line, err)
	}
	t.Cleanup(func() { // in case Sweep fails: leave nothing behind either way
		_ = removeObjects(id)
		_ = syscall.Kill(orphan, syscall.SIGKILL)
		_ = os.Remove(statePath(id))
	})

	// The crash left everything behind, the orphan included.
	if got := len(namesWithPrefix(t, id)); got != 3 {
		t.Fatalf("found %d netns of crashed cluster %s, want 3", got, id)
	}
	if _, err := os.Stat("/sys/class/net/" + id); err != nil {
		t.Fatalf("crashed cluster's veth: %v", err)
	}
	if _, err := startTime(orphan); err != nil {
		t.Fatalf("orphan of the crashed run: %v", err)
	}

	if err := sweepLocked(Prefix); err != nil { // Sweep without taking the lock we hold
		t.Fatalf("Sweep: %v", err)
	}
	if left := namesWithPrefix(t, id); len(left) != 0 {
		t.Errorf("netns left after Sweep: %v", left)
	}
	if _, err := os.Stat("/sys/class/net/" + id); err == nil {
		t.Errorf("veth %s left after Sweep", id)
	}
	if _, err := os.Stat(statePath(id)); err == nil {
		t.Errorf("state file of %s left after Sweep", id)
	}
	Eventually(t, 10*time.Second, func() error {
		if _, err := startTime(orphan); err == nil {
			return fmt.Errorf("orphan %d in the crashed cluster's node still runs", orphan)
		}
		return nil
	})
	if got := len(namesWithPrefix(t, live.ID)); got != 2 {
		t.Errorf("Sweep touched the live cluster %s: %d of its 2 netns remain", live.ID, got)
	}
	if _, err := os.Stat(statePath(live.ID)); err != nil {
		t.Errorf("Sweep removed the live cluster's state: %v", err)
	}
}

func TestStateAlive(t *testing.T) {
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	if !me.alive() {
		t.Error("own state does not count as alive")
	}
	if (state{Pid: me.Pid, Start: me.Start + 1}).alive() {
		t.Error("a reused pid (other start time) counts as alive")
	}
	if (state{}).alive() {
		t.Error("a zero state (torn file) counts as alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := startTime(cmd.Process.Pid); err == nil {
		t.Error("an exited, reaped process has a start time " + strconv.Itoa(cmd.Process.Pid))
	}
}
