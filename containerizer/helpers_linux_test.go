package containerizer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// newTestLinux returns a containerizer with its own state directory and a
// unique cgroups root, and removes that root from every hierarchy when the
// test ends (libcontainer removes only the containers' own cgroups).
func newTestLinux(t testing.TB) *Linux {
	t.Helper()
	return newTestLinuxIn(t, t.TempDir())
}

// newTestLinuxIn is newTestLinux with the state directory below parent.
func newTestLinuxIn(t testing.TB, parent string) *Linux {
	t.Helper()
	kerneltest.Root(t)
	root := kerneltest.Name("cn")
	l, err := New(Config{StateDir: filepath.Join(parent, "containers"), CgroupsRoot: root, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		dirs, err := l.host.dirs(root, "")
		if err != nil {
			t.Errorf("cgroups root dirs: %v", err)
			return
		}
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("remove cgroups root: %v", err)
			}
		}
	})
	return l
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// box is one test container's sandbox and output files.
type box struct {
	dir, stdout, stderr string
}

func newBox(t testing.TB) box {
	d := t.TempDir()
	return box{dir: d, stdout: filepath.Join(d, "stdout"), stderr: filepath.Join(d, "stderr")}
}

func (b box) out(t testing.TB) (string, string) {
	t.Helper()
	o, _ := os.ReadFile(b.stdout)
	e, _ := os.ReadFile(b.stderr)
	return string(o), string(e)
}

// launch starts a container running sh -c script and destroys it when the
// test ends.
func launch(t testing.TB, l *Linux, s Spec) ids.ContainerID {
	t.Helper()
	if s.ID == "" {
		s.ID = ids.ContainerID(kerneltest.Name("c"))
	}
	if len(s.Env) == 0 {
		s.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	}
	if _, err := l.Launch(context.Background(), s); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.Destroy(ctx, s.ID); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	return s.ID
}

func shell(b box, script string) Spec {
	return Spec{Sandbox: b.dir, Args: []string{"/bin/sh", "-c", script}, Stdout: b.stdout, Stderr: b.stderr}
}

func wait(t testing.TB, l *Linux, id ids.ContainerID) Exit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := l.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return e
}

// cgroupFile reads a file of the container's cgroup for controller (""
// for v2).
func cgroupFile(t testing.TB, l *Linux, id ids.ContainerID, controller, file string) string {
	t.Helper()
	paths, err := l.CgroupPaths(id)
	if err != nil {
		t.Fatal(err)
	}
	if l.host.mode == modeUnified {
		controller = ""
	}
	b, err := os.ReadFile(filepath.Join(paths[controller], file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
