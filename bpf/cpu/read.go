//go:build linux

package cpu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Read returns the cgroup's counters: what the cgroups map holds, what the
// CPUs' caches hold, and the slices running now. A cgroup the meter has not
// seen yet reads as zero.
//
// The parts are read one after the other, bracketed by readings of the
// per-CPU state; Read retries when a CPU that ran or cached the cgroup
// switched tasks in between, so the result is exact unless those CPUs switch
// faster than a few syscalls, in which case a slice that ended during the
// read may be missing (never counted twice).
func (m *Meter) Read(cgroupID uint64) (Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Stats{}, errClosed
	}
	if m.gone.Has(cgroupID) {
		return Stats{}, nil
	}
	var vals []cpuCgCpu
	for attempt := 0; ; attempt++ {
		before, err := m.running()
		if err != nil {
			return Stats{}, err
		}
		vals = vals[:0]
		if err := m.objs.Cgroups.Lookup(cgroupID, &vals); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return Stats{}, fmt.Errorf("read cpu meter: %w", err)
		}
		mid, err := m.running()
		if err != nil {
			return Stats{}, err
		}
		slices := runningSlices(mid, func(r *cpuRunning) bool { return r.CgroupId == cgroupID })
		after, err := m.running()
		if err != nil {
			return Stats{}, err
		}
		if attempt < 3 && !(settled(before, mid, cgroupID) && settled(mid, after, cgroupID)) {
			continue
		}
		var s Stats
		for _, v := range vals {
			s.add(&v)
		}
		for i := range mid {
			if mid[i].Seq%2 != 0 {
				continue // torn: caught mid-update (only after the retries)
			}
			for _, c := range mid[i].Cached {
				if c.CgroupId == cgroupID {
					s.add(&c.C)
				}
			}
			if slices[i].ok && mid[i].Seq == after[i].Seq {
				s.OnCPU += slices[i].ran
				s.Running++
			}
		}
		return s, nil
	}
}

// ReadAll returns the counters of every cgroup the meter has seen, and of
// every cgroup running now. It does not retry (see Read): with many cgroups
// the read takes long enough that CPUs always switch meanwhile, so a slice
// that ends, or cache slot that is flushed, during the read may be missing
// from its cgroup until the next read.
func (m *Meter) ReadAll() (map[uint64]Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	out := make(map[uint64]Stats)
	inMap := make(map[uint64]bool)
	var (
		id   uint64
		vals []cpuCgCpu
	)
	it := m.objs.Cgroups.Iterate()
	for it.Next(&id, &vals) {
		var s Stats
		for _, v := range vals {
			s.add(&v)
		}
		out[id] = s
		inMap[id] = true
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read cpu meter: %w", err)
	}
	mid, err := m.running()
	if err != nil {
		return nil, err
	}
	slices := runningSlices(mid, func(r *cpuRunning) bool { return r.CgroupId != 0 })
	after, err := m.running()
	if err != nil {
		return nil, err
	}
	for i := range mid {
		if mid[i].Seq%2 != 0 {
			continue
		}
		for _, c := range mid[i].Cached {
			if c.CgroupId != 0 {
				s := out[c.CgroupId]
				s.add(&c.C)
				out[c.CgroupId] = s
			}
		}
		if slices[i].ok && mid[i].Seq == after[i].Seq {
			s := out[mid[i].CgroupId]
			s.OnCPU += slices[i].ran
			s.Running++
			out[mid[i].CgroupId] = s
		}
	}
	if err := m.sweep(out, inMap); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *Meter) running() ([]cpuRunning, error) {
	var runs []cpuRunning
	if err := m.objs.Runs.Lookup(uint32(0), &runs); err != nil {
		return nil, fmt.Errorf("read running slices: %w", err)
	}
	return runs, nil
}

// settled reports whether no CPU that ran or cached the cgroup, in either
// reading, changed its state between the two, nor was changing it.
func settled(before, after []cpuRunning, id uint64) bool {
	if len(before) != len(after) {
		return false
	}
	for i := range after {
		b, a := &before[i], &after[i]
		if (involves(b, id) || involves(a, id)) && (b.Seq != a.Seq || a.Seq%2 != 0) {
			return false
		}
	}
	return true
}

func involves(r *cpuRunning, id uint64) bool {
	if r.CgroupId == id {
		return true
	}
	for _, c := range r.Cached {
		if c.CgroupId == id {
			return true
		}
	}
	return false
}

func (s *Stats) add(v *cpuCgCpu) {
	s.OnCPU += time.Duration(v.OnCpuNs)
	s.Switches += v.Switches
	s.Involuntary += v.Involuntary
	s.RunQueue.Sum += time.Duration(v.DelayNs)
	s.RunQueue.Count += v.Delays
	s.Unseen += v.Unseen
	for i, c := range v.DelaySlot {
		s.RunQueue.Slots[i] += c
	}
}

type slice struct {
	ran time.Duration
	ok  bool
}

// runningSlices returns, for each CPU running a task that match selects, how
// long the task has run since it arrived: its CPU time now (the kernel brings
// a running task's up to date when asked) minus its CPU time on arrival.
func runningSlices(runs []cpuRunning, match func(*cpuRunning) bool) []slice {
	out := make([]slice, len(runs))
	for i := range runs {
		r := &runs[i]
		if r.Seq%2 != 0 || r.CgroupId == 0 || r.Pid == 0 || !match(r) {
			continue
		}
		rt, err := taskRuntime(int(r.Pid))
		if err != nil || rt < r.StartRuntime {
			continue // gone, or another task reusing the id: it switched
		}
		out[i] = slice{time.Duration(rt - r.StartRuntime), true}
	}
	return out
}

// taskRuntime reads a task's se.sum_exec_runtime, in ns, from the first
// field of /proc/<tid>/schedstat.
func taskRuntime(tid int) (uint64, error) {
	var buf [128]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/schedstat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return 0, err
	}
	field, _, _ := strings.Cut(string(buf[:n]), " ")
	return strconv.ParseUint(field, 10, 64)
}
