package bpftest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// Cgroup is a cgroup v2 directory a test created.
type Cgroup struct {
	Path string
	ID   uint64 // cgroup v2 id, as eBPF sees it
}

// NewCgroup creates a uniquely named cgroup v2 directory below the unified
// root; Cleanup kills what still runs in it and removes it.
func NewCgroup(t testing.TB) Cgroup {
	t.Helper()
	root, err := bpf.UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, kerneltest.Name("cnbpf"))
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	t.Cleanup(func() { removeCgroup(t, path) })
	id, err := bpf.CgroupID(path)
	if err != nil {
		t.Fatal(err)
	}
	return Cgroup{Path: path, ID: id}
}

func removeCgroup(t testing.TB, path string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		// cgroup.kill (Linux 5.14+) SIGKILLs everything inside.
		_ = os.WriteFile(filepath.Join(path, "cgroup.kill"), []byte("1"), 0)
		err := unix.Rmdir(path)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("remove cgroup %s: still busy", path)
}

// UsageUsec reads usage_usec from the cgroup's cpu.stat: the CPU time the
// kernel itself charged to the cgroup, the CPU meter's ground truth.
func (c Cgroup) UsageUsec(t testing.TB) uint64 {
	t.Helper()
	v, err := statField(filepath.Join(c.Path, "cpu.stat"), "usage_usec")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func statField(path, key string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// ProcStatusKB reads a "Vm...:  N kB" line from /proc/<pid>/status, in bytes.
func ProcStatusKB(t testing.TB, pid int, key string) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("parse %s of %d: %v", key, pid, err)
		}
		return n << 10
	}
	t.Fatalf("/proc/%d/status has no %s", pid, key)
	return 0
}

// OwnCgroupID returns the cgroup v2 id of the test process's own cgroup.
func OwnCgroupID(t testing.TB) uint64 {
	t.Helper()
	root, err := bpf.UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := bpf.ProcessCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	id, err := bpf.CgroupID(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return id
}
