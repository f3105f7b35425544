package containerizer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/ids"
)

// userHZ is the unit of cpuacct.stat: 100 on every Linux architecture Cairn
// runs on.
const userHZ = 100

// Counters reads the part of Usage the agent samples every second, from the
// fewest cgroup files: 10 reads (11 with a nested task cgroup), where Usage (libcontainer's GetStats) reads
// every statistic of every controller (about 40 files on a v1 host, ~5x the
// time). MemMaxUsageBytes is left zero. It fails like Usage for a container
// that is gone, and with an error from the file read for one whose cgroups
// are being removed.
func (l *Linux) Counters(id ids.ContainerID) (Usage, error) {
	dirs, err := l.cgroupDirs(id)
	if err != nil {
		return Usage{}, fmt.Errorf("counters of container %s: %w", id, err)
	}
	var u Usage
	var r counterReader
	if l.host.mode == modeUnified {
		r.v2(dirs[""], &u)
	} else {
		r.v1(dirs, &u)
	}
	if r.err != nil {
		return Usage{}, fmt.Errorf("counters of container %s: %w", id, r.err)
	}
	return u, nil
}

// UnifiedCgroup returns the directory of the container's cgroup v2 (on
// hybrid hosts the one libcontainer adds in the unified hierarchy), whose
// inode is the id eBPF helpers report; "" on a host without cgroup v2.
// Unlike CgroupPaths it shares no state with a concurrent Destroy.
func (l *Linux) UnifiedCgroup(id ids.ContainerID) (string, error) {
	dirs, err := l.cgroupDirs(id)
	if err != nil {
		return "", fmt.Errorf("cgroup of container %s: %w", id, err)
	}
	return dirs[""], nil
}

// cgroupDirs returns a known container's cgroup directories, computed from
// the host's layout rather than read from libcontainer's manager: the map
// GetPaths returns is the manager's own, and Destroy edits it.
func (l *Linux) cgroupDirs(id ids.ContainerID) (map[string]string, error) {
	if _, _, err := l.attach(id); err != nil {
		return nil, err
	}
	return l.host.dirs(l.cgroupsRoot, string(id))
}

// counterReader reads cgroup files into a Usage and keeps the first error.
type counterReader struct {
	err error
}

func (r *counterReader) read(dir, file string) []byte {
	if r.err != nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		r.err = err
	}
	return b
}

func (r *counterReader) uint(dir, file string) uint64 {
	b := bytes.TrimSpace(r.read(dir, file))
	if r.err != nil || string(b) == "max" {
		return 0
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		r.err = fmt.Errorf("parse %s: %w", file, err)
	}
	return v
}

// keyed parses a flat "key value" file and calls set for each line.
func (r *counterReader) keyed(dir, file string, set func(k string, v uint64)) {
	b := r.read(dir, file)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(" "))
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			set(string(k), n)
		}
	}
}

// lines counts the lines of a file (the pids in cgroup.procs).
func (r *counterReader) lines(dir, file string) uint64 {
	return uint64(bytes.Count(r.read(dir, file), []byte("\n")))
}

func (r *counterReader) v1(dirs map[string]string, u *Usage) {
	u.CPUUsageNanos = r.uint(dirs["cpuacct"], "cpuacct.usage")
	r.keyed(dirs["cpuacct"], "cpuacct.stat", func(k string, v uint64) {
		switch k {
		case "user":
			u.CPUUserSeconds = float64(v) / userHZ
		case "system":
			u.CPUSystemSeconds = float64(v) / userHZ
		}
	})
	r.cpuStatV1(dirs["cpu"], u)
	// A command task's processes run in a nested cpu cgroup with the task's
	// own quota (see taskCgroup): that is where their throttling shows.
	if task := filepath.Join(dirs["cpu"], taskCgroupName); dirs["cpu"] != "" {
		if _, err := os.Stat(filepath.Join(task, "cpu.stat")); err == nil {
			r.cpuStatV1(task, u)
		}
	}
	mem := dirs["memory"]
	u.MemTotalBytes = r.uint(mem, "memory.usage_in_bytes")
	if lim := r.uint(mem, "memory.limit_in_bytes"); lim < unlimited {
		u.MemLimitBytes = lim
	}
	if soft := r.uint(mem, "memory.soft_limit_in_bytes"); soft < unlimited {
		u.MemSoftLimitBytes = soft
	}
	r.keyed(mem, "memory.stat", func(k string, v uint64) {
		switch k {
		case "total_rss":
			u.MemRSSBytes = v
		case "total_cache":
			u.MemFileBytes = v
		case "total_mapped_file":
			u.MemMappedFileBytes = v
		case "total_swap":
			u.MemSwapBytes = v
		case "total_unevictable":
			u.MemUnevictableBytes = v
		}
	})
	r.keyed(mem, "memory.oom_control", func(k string, v uint64) {
		if k == "oom_kill" {
			u.OOMKills = v
		}
	})
	u.Threads = r.uint(dirs["pids"], "pids.current")
	u.Processes = r.lines(dirs["pids"], "cgroup.procs")
}

// cpuStatV1 adds a v1 cpu.stat's throttling to u; periods are the larger
// count (a container's cgroup and its nested one see the same periods).
func (r *counterReader) cpuStatV1(dir string, u *Usage) {
	r.keyed(dir, "cpu.stat", func(k string, v uint64) {
		switch k {
		case "nr_periods":
			u.CPUPeriods = max(u.CPUPeriods, v)
		case "nr_throttled":
			u.CPUThrottled += v
		case "throttled_time":
			u.CPUThrottledSeconds += time.Duration(v).Seconds()
		}
	})
}

func (r *counterReader) v2(dir string, u *Usage) {
	r.keyed(dir, "cpu.stat", func(k string, v uint64) {
		switch k {
		case "usage_usec":
			u.CPUUsageNanos = v * 1000
		case "user_usec":
			u.CPUUserSeconds = float64(v) / 1e6
		case "system_usec":
			u.CPUSystemSeconds = float64(v) / 1e6
		case "nr_periods":
			u.CPUPeriods = v
		case "nr_throttled":
			u.CPUThrottled = v
		case "throttled_usec":
			u.CPUThrottledSeconds = float64(v) / 1e6
		}
	})
	u.MemTotalBytes = r.uint(dir, "memory.current")
	u.MemLimitBytes = r.uint(dir, "memory.max") // "max" reads as 0: no limit
	u.MemSoftLimitBytes = r.uint(dir, "memory.low")
	r.keyed(dir, "memory.stat", func(k string, v uint64) {
		switch k {
		case "anon":
			u.MemRSSBytes = v
		case "file":
			u.MemFileBytes = v
		case "file_mapped":
			u.MemMappedFileBytes = v
		case "unevictable":
			u.MemUnevictableBytes = v
		}
	})
	if _, err := os.Stat(filepath.Join(dir, "memory.swap.current")); err == nil {
		u.MemSwapBytes = r.uint(dir, "memory.swap.current") // absent without swap accounting
	}
	r.keyed(dir, "memory.events", func(k string, v uint64) {
		if k == "oom_kill" {
			u.OOMKills = v
		}
	})
	u.Threads = r.uint(dir, "pids.current")
	u.Processes = r.lines(dir, "cgroup.procs")
}
