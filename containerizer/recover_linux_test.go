package containerizer

import (
	"context"
	"errors"
	osexec "os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRecover: a second containerizer on the same state directory (a
// restarted agent) re-attaches to a running container and to one that has
// exited, and can wait for, signal and destroy them.
func TestRecover(t *testing.T) {
	l1 := newTestLinux(t)
	b := newBox(t)
	s := shell(b, "")
	s.Args = []string{"/usr/bin/sleep", "600"}
	sleeper := launch(t, l1, s)
	quick := launch(t, l1, shell(newBox(t), "exit 7"))
	if e := wait(t, l1, quick); e.Code != 7 {
		t.Fatalf("quick container: %+v", e)
	}

	l2, err := New(Config{StateDir: l1.stateDir, CgroupsRoot: l1.cgroupsRoot, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Recover(context.Background(), "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Recover of an unknown container: %v", err)
	}
	l1c, _ := l1.get(context.Background(), sleeper)
	pid, err := l2.Recover(context.Background(), sleeper)
	if err != nil || pid != l1c.pid {
		t.Fatalf("Recover = %d, %v; the container's pid is %d", pid, err, l1c.pid)
	}
	if again, err := l2.Recover(context.Background(), sleeper); err != nil || again != pid {
		t.Fatalf("second Recover = %d, %v", again, err)
	}
	// The exited one is recovered too, and its Wait returns at once; its
	// init was reaped by l1 already, so the status cannot be known.
	if _, err := l2.Recover(context.Background(), quick); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, l2, quick); !e.Unknown && e.Code != 7 {
		t.Fatalf("recovered exited container: %+v", e)
	}
	if u, err := l2.Usage(sleeper); err != nil || u.Processes != 1 {
		t.Fatalf("Usage of the recovered container = %+v, %v", u, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if _, err := l2.Wait(ctx, sleeper); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a running recovered container returned: %v", err)
	}
	cancel()
	if err := l2.Signal(sleeper, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// sleep as pid 1 of its namespace ignores SIGTERM (no handler): still up.
	if err := l2.Destroy(context.Background(), sleeper); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, l1, sleeper); e.Signal != syscall.SIGKILL {
		t.Fatalf("first containerizer saw %+v", e)
	}
	if got, _ := l2.Containers(); len(got) != 1 || got[0] != quick {
		t.Fatalf("Containers() after destroying the recovered one = %v", got)
	}
}

// TestExitOfPidfd: the exit status comes through a pidfd when this process
// is the parent, and is unknown otherwise.
func TestExitOfPidfd(t *testing.T) {
	child := osexec.Command("/bin/sh", "-c", "exit 7")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.PidfdOpen(child.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitPidfd(fd)
	x, ok := exitOf(fd)
	unix.Close(fd)
	if !ok || x.Code != 7 || x.Signal != 0 {
		t.Fatalf("exit of own child: %+v, %v", x, ok)
	}
	if err := child.Wait(); err == nil || child.ProcessState.ExitCode() != 7 {
		t.Fatalf("child was reaped by exitOf: %v", err)
	}

	// A grandchild is reparented away from us: its status is not ours.
	out, err := osexec.Command("/bin/sh", "-c", "sleep 0.3 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	fd, err = unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		t.Fatal("grandchild gone before the test looked (machine too slow?)")
	}
	if err != nil {
		t.Fatal(err)
	}
	waitPidfd(fd)
	if x, ok := exitOf(fd); ok {
		t.Fatalf("exit of a process that is not our child: %+v", x)
	}
	unix.Close(fd)
}
