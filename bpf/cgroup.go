package bpf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CgroupID returns the cgroup v2 id of the cgroup directory at path: the
// inode number of the directory, which is what bpf_get_current_cgroup_id()
// and bpf_skb_cgroup_id() return for tasks and sockets in that cgroup. path
// must be in a cgroup2 mount (on hybrid hosts, /sys/fs/cgroup/unified/...).
func CgroupID(path string) (uint64, error) {
	ok, err := hasMagic(path, cgroup2Magic)
	if err != nil {
		return 0, fmt.Errorf("cgroup id of %s: %w", path, err)
	}
	if !ok {
		return 0, fmt.Errorf("cgroup id of %s: not in a cgroup2 filesystem", path)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("cgroup id of %s: %w", path, err)
	}
	return st.Ino, nil
}

// UnifiedRoot returns where the cgroup v2 hierarchy is mounted:
// /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones, or
// wherever /proc/self/mountinfo says. The agent attaches bpf/net there.
func UnifiedRoot() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	return unifiedRoot(f)
}

func unifiedRoot(r io.Reader) (string, error) {
	var found []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields := strings.Fields(pre)
		if len(fields) < 5 || !strings.HasPrefix(post, "cgroup2 ") || fields[3] != "/" {
			continue
		}
		found = append(found, unescapeMountinfo(fields[4]))
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	// Prefer the conventional places when the hierarchy is mounted twice.
	for _, want := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		for _, p := range found {
			if p == want {
				return p, nil
			}
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	return "", errors.New("find cgroup2 mount: no cgroup2 filesystem is mounted")
}

// unescapeMountinfo undoes the octal escapes (\040 for space, ...) that
// mountinfo uses in paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ProcessCgroup returns the cgroup v2 path of process pid relative to the
// unified root ("/" for the root cgroup), from /proc/<pid>/cgroup.
func ProcessCgroup(pid int) (string, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", fmt.Errorf("cgroup of pid %d: %w", pid, err)
	}
	p, err := unifiedPath(data)
	if err != nil {
		return "", fmt.Errorf("cgroup of pid %d: %w", pid, err)
	}
	return p, nil
}

func unifiedPath(procCgroup []byte) (string, error) {
	for _, line := range bytes.Split(procCgroup, []byte("\n")) {
		if p, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return string(p), nil
		}
	}
	return "", errors.New("no cgroup v2 membership (no 0:: line)")
}
