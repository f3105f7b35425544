package bpftest

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// LimitMemory caps the memory of process pid, which runs in cg, at limit
// bytes: with cg's own memory.max where the v2 memory controller is enabled,
// otherwise (hybrid hosts) in a new v1 memory cgroup below this process's
// own, which Cleanup removes. It returns the directory that holds the limit.
func LimitMemory(t testing.TB, cg Cgroup, pid int, limit uint64) string {
	t.Helper()
	v := strconv.FormatUint(limit, 10)
	if _, err := os.Stat(filepath.Join(cg.Path, "memory.max")); err == nil {
		write(t, filepath.Join(cg.Path, "memory.max"), v)
		_ = os.WriteFile(filepath.Join(cg.Path, "memory.swap.max"), []byte("0"), 0)
		return cg.Path
	}
	mount, own := v1Memory(t)
	dir := filepath.Join(mount, own, kerneltest.Name("cnbpf"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create memory cgroup: %v", err)
	}
	t.Cleanup(func() { removeV1(t, dir) })
	write(t, filepath.Join(dir, "memory.limit_in_bytes"), v)
	if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err == nil {
		write(t, filepath.Join(dir, "memory.memsw.limit_in_bytes"), v)
	}
	write(t, filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid))
	return dir
}

// v1Memory returns where the v1 memory hierarchy is mounted and this
// process's cgroup in it.
func v1Memory(t testing.TB) (mount, own string) {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) >= 5 && len(qf) >= 3 && qf[0] == "cgroup" && hasOpt(qf[2], "memory") {
			mount = pf[4]
			break
		}
	}
	if mount == "" {
		kerneltest.Skip(t, "no memory cgroup controller in v1 or v2")
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && hasOpt(parts[1], "memory") {
			return mount, parts[2]
		}
	}
	t.Fatal("no v1 memory cgroup in /proc/self/cgroup")
	return "", ""
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

func removeV1(t testing.TB, dir string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("remove memory cgroup %s: still busy", dir)
}

func write(t testing.TB, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		t.Fatalf("write %s to %s: %v", v, path, err)
	}
}
