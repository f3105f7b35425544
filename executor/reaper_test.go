package executor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReaperCollectsOrphans runs the pid-1 reaping mode in a child process
// of the test (a subreaper, so orphans come to it as they would to a pid
// namespace's init): the task's exit is reported, and the background
// process it leaves behind is reaped rather than left a zombie.
func TestReaperCollectsOrphans(t *testing.T) {
	if os.Getenv("CAIRN_REAPER_CHILD") == "1" {
		reaperChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReaperCollectsOrphans$")
	cmd.Env = append(os.Environ(), "CAIRN_REAPER_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reaper child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "task_status=5 orphans=1 left=none") {
		t.Fatalf("reaper child reported:\n%s", out)
	}
}

func reaperChild() {
	fail := func(format string, args ...any) {
		fmt.Printf(format+"\n", args...)
		os.Exit(1)
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fail("set subreaper: %v", err)
	}
	r := newReaper(true, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)
	cmd := command{path: "/bin/sh", argv: []string{"sh", "-c", "sleep 0.2 & exit 5"}, env: os.Environ(), dir: "/"}
	pid, err := r.start(cmd.spawn)
	if err != nil {
		fail("spawn: %v", err)
	}
	ex := <-r.exits
	if ex.pid != pid {
		fail("exit of pid %d, want %d", ex.pid, pid)
	}
	// The sleep outlives its parent and is reparented to us.
	deadline := time.Now().Add(waitTimeout)
	orphans := 0
	for time.Now().Before(deadline) {
		r.mu.Lock()
		orphans = r.orphans
		r.mu.Unlock()
		if orphans > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	left := "none"
	if _, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); err != syscall.ECHILD {
		left = fmt.Sprintf("some (%v)", err)
	}
	fmt.Printf("task_status=%d orphans=%d left=%s\n", ex.status.ExitStatus(), orphans, left)
	os.Exit(0)
}
