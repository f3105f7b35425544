package fake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
)

func spec(t *testing.T, id, script string) containerizer.Spec {
	d := t.TempDir()
	return containerizer.Spec{
		ID: ids.ContainerID(id), Sandbox: d, Args: []string{"/bin/sh", "-c", script},
		Env: []string{"PATH=/usr/bin:/bin", "FOO=bar"}, Stdout: filepath.Join(d, "stdout"), Stderr: filepath.Join(d, "stderr"),
		Limits: isolators.Limits{CPUShares: 512, MemoryBytes: 64 << 20},
	}
}

func read(t *testing.T, p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func wait(t *testing.T, f *Containerizer, s containerizer.Spec) containerizer.Exit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := f.Wait(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLaunchRunsArgsInSandbox(t *testing.T) {
	f := New()
	s := spec(t, "c1", `echo hi; echo err >&2; pwd; env | sort; exit 3`)
	pid, err := f.Launch(context.Background(), s)
	if err != nil || pid <= 0 {
		t.Fatalf("Launch = %d, %v", pid, err)
	}
	if e := wait(t, f, s); e != (containerizer.Exit{Code: 3}) {
		t.Errorf("exit %+v", e)
	}
	out := read(t, s.Stdout)
	// sh adds PWD (and may add SHLVL/_) itself; nothing comes from the test's environment.
	if !strings.HasPrefix(out, "hi\n"+s.Sandbox+"\n") || !strings.Contains(out, "FOO=bar\n") || strings.Contains(out, "HOME=") {
		t.Errorf("stdout %q", out)
	}
	if got := read(t, s.Stderr); got != "err\n" {
		t.Errorf("stderr %q", got)
	}
	if f.SandboxPath(s.Sandbox) != s.Sandbox {
		t.Error("SandboxPath is not the host path")
	}
	if l, ok := f.Limits(s.ID); !ok || l != s.Limits {
		t.Errorf("recorded limits %+v, %v", l, ok)
	}
	if _, err := f.Launch(context.Background(), s); !errors.Is(err, containerizer.ErrExists) {
		t.Errorf("second Launch: %v", err)
	}
	if err := f.Destroy(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Wait(context.Background(), s.ID); !errors.Is(err, containerizer.ErrNotFound) {
		t.Errorf("Wait after Destroy: %v", err)
	}
	if _, ok := f.Spec(s.ID); !ok {
		t.Error("spec forgotten after Destroy")
	}
}

func TestSignalsAndDestroy(t *testing.T) {
	f := New()
	s := spec(t, "c2", `trap 'echo term; exit 5' TERM; sleep 600 & echo $! > child; while :; do sleep 0.05; done`)
	if _, err := f.Launch(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	childFile := filepath.Join(s.Sandbox, "child")
	for strings.TrimSpace(read(t, childFile)) == "" {
		time.Sleep(time.Millisecond)
	}
	childPid := strings.TrimSpace(read(t, childFile))
	if err := f.Signal(s.ID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, f, s); e.Code != 5 {
		t.Errorf("exit %+v", e)
	}
	// The init is gone, so the rest of its group was killed, as in a pid namespace.
	for {
		b, err := os.ReadFile("/proc/" + childPid + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			break
		}
	}
	if err := f.Signal(s.ID, syscall.SIGTERM); err != nil {
		t.Errorf("Signal after exit: %v", err)
	}
	for range 2 {
		if err := f.Destroy(context.Background(), s.ID); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	}
	if ids, _ := f.Containers(); len(ids) != 0 {
		t.Errorf("Containers after Destroy: %v", ids)
	}

	s = spec(t, "c3", "sleep 600")
	if _, err := f.Launch(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if err := f.SignalAll(s.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, f, s); e.Signal != syscall.SIGKILL {
		t.Errorf("exit after SignalAll %+v", e)
	}
	_ = f.Destroy(context.Background(), s.ID)
}

func TestUsage(t *testing.T) {
	f := New()
	s := spec(t, "c4", "while :; do :; done")
	if _, err := f.Launch(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Destroy(context.Background(), s.ID) })
	var u containerizer.Usage
	for u.CPUUsageNanos == 0 {
		var err error
		if u, err = f.Usage(s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if u.Processes != 1 || u.Threads != 1 || u.MemRSSBytes == 0 || u.CPUUserSeconds+u.CPUSystemSeconds == 0 {
		t.Errorf("usage %+v", u)
	}
	if _, err := f.Usage("nope"); !errors.Is(err, containerizer.ErrNotFound) {
		t.Errorf("Usage of unknown: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 3 0 123 4096000 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st != (procStat{state: "S", pgrp: 4242, utime: 250, stime: 30, threads: 3, rssPages: 512}) {
		t.Errorf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "1 (x) S 1", "1 (x) S 1 notanumber 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestRecover(t *testing.T) {
	f := New()
	dir := t.TempDir()
	pid, err := f.Launch(context.Background(), containerizer.Spec{ID: "c1", Sandbox: dir, Args: []string{"/bin/sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Destroy(context.Background(), "c1") })
	if got, err := f.Recover(context.Background(), "c1"); err != nil || got != pid {
		t.Fatalf("Recover = %d, %v, want %d", got, err, pid)
	}
	if _, err := f.Recover(context.Background(), "c2"); !errors.Is(err, containerizer.ErrNotFound) {
		t.Fatalf("Recover of an unknown container: %v", err)
	}
}
