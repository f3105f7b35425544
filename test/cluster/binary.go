package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// binDirPrefix names the per-process directories Binary builds into, under
// os.TempDir; the suffix is the building process's pid.
const binDirPrefix = "cairn-test-bin-"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a cairn binary for end-to-end tests: $CAIRN_BIN
// when set, otherwise ./cmd/cairn built once per test process with cgo on
// (libcontainer's nsenter is C). A build failure fails every test that asks.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CAIRN_BIN"); p != "" {
		return p
	}
	build.once.Do(func() { build.path, build.err = buildCairn() })
	if build.err != nil {
		t.Fatalf("cluster: %v", build.err)
	}
	return build.path
}

// buildCairn builds into a directory named after this process, since test
// packages run in parallel processes and one must not overwrite a binary
// another is running. No hook runs when a test process exits, so each build
// first removes the directories of processes that are gone.
func buildCairn() (string, error) {
	removeStaleBinDirs()
	dir := filepath.Join(os.TempDir(), binDirPrefix+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build cairn: %w", err)
	}
	out := filepath.Join(dir, "cairn")
	var msg bytes.Buffer
	cmd := exec.Command("go", "build", "-o", out, "github.com/cairnhq/cairn/cmd/cairn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	cmd.Stdout = &msg
	cmd.Stderr = &msg
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build cairn: %w\n%s", err, msg.Bytes())
	}
	return out, nil
}

func removeStaleBinDirs() {
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), binDirPrefix))
		if !strings.HasPrefix(e.Name(), binDirPrefix) || err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}
