package fake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// Usage sums what /proc tells about the processes of the container's
// process group: CPU time, resident memory, process and thread counts. The
// CPU time of exited children is not included (the kernel adds it to the
// parent only when reaped). ErrNotFound for an unknown or destroyed id.
func (f *Containerizer) Usage(id ids.ContainerID) (containerizer.Usage, error) {
	p, err := f.get(id)
	if err != nil {
		return containerizer.Usage{}, fmt.Errorf("usage of container %s: %w", id, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return containerizer.Usage{}, fmt.Errorf("usage of container %s: %w", id, err)
	}
	var u containerizer.Usage
	var ticks uint64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		st, err := parseStat(string(b))
		if err != nil || st.pgrp != p.pid || st.state == "Z" {
			continue
		}
		u.Processes++
		u.Threads += st.threads
		u.CPUUserSeconds += float64(st.utime) / clockTicks
		u.CPUSystemSeconds += float64(st.stime) / clockTicks
		ticks += st.utime + st.stime
		u.MemRSSBytes += st.rssPages * uint64(os.Getpagesize())
	}
	u.CPUUsageNanos = ticks * (1e9 / clockTicks)
	u.MemTotalBytes = u.MemRSSBytes
	return u, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Cairn runs on.
const clockTicks = 100

// procStat is the part of /proc/<pid>/stat Usage needs.
type procStat struct {
	state             string
	pgrp              int
	utime, stime      uint64 // clock ticks
	threads, rssPages uint64
}

// parseStat parses /proc/<pid>/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from the
// last ')'.
func parseStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("parse stat: no command name")
	}
	// Fields after the name, numbered as in proc(5) from field 3 (state).
	f := strings.Fields(s[i+1:])
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("parse stat: %d fields", len(f)+2)
	}
	field := func(n int) string { return f[n-3] }
	var st procStat
	var err error
	num := func(n int) uint64 {
		v, e := strconv.ParseUint(field(n), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("parse stat field %d: %w", n, e)
		}
		return v
	}
	st.state = field(3)
	pgrp, e := strconv.Atoi(field(5))
	if e != nil {
		return procStat{}, fmt.Errorf("parse stat pgrp: %w", e)
	}
	st.pgrp = pgrp
	st.utime, st.stime = num(14), num(15)
	st.threads = num(20)
	st.rssPages = num(24)
	return st, err
}
