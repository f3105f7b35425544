//go:build linux

package cpu

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Needs lists the kernel features Open requires.
var Needs = []bpf.Feature{
	bpf.KernelBTF, bpf.TracingPrograms, bpf.PerCPUHashMaps,
	bpf.TaskStorageMaps, bpf.SchedTracepoints,
}

// Meter is the loaded and attached CPU meter.
type Meter struct {
	mu     sync.RWMutex // write-held by Close, read-held by every map access
	closed bool
	objs   cpuObjects
	links  []link.Link
}

// Open loads the programs and attaches them to the scheduler tracepoints.
// When the kernel lacks a feature the error wraps bpf.ErrNotSupported and
// names it (see bpf.IsMissing).
func Open() (*Meter, error) {
	if err := bpf.Require(Needs...); err != nil {
		return nil, fmt.Errorf("open cpu meter: %w", err)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("open cpu meter: %w", err)
	}
	m := &Meter{}
	if err := loadCpuObjects(&m.objs, nil); err != nil {
		return nil, fmt.Errorf("load cpu meter: %w", err)
	}
	// Wakeups first: a switch-in that finds no wait start records nothing,
	// while the reverse order would miss the first waits.
	for _, p := range []*ebpf.Program{m.objs.OnWakeup, m.objs.OnWakeupNew, m.objs.OnSwitch} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("attach cpu meter %s: %w", p, err)
		}
		m.links = append(m.links, l)
	}
	return m, nil
}

// Close detaches the programs and frees the maps. It is idempotent.
func (m *Meter) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, l := range m.links {
		errs = append(errs, l.Close())
	}
	errs = append(errs, m.objs.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close cpu meter: %w", err)
	}
	return nil
}

var errClosed = errors.New("cpu meter is closed")

// Read returns the cgroup's counters, including the slices running now. A
// cgroup the meter has not seen yet reads as zero.
//
// The running slices and the completed ones are read separately; Read
// retries when a CPU switched tasks in between, so the result is exact unless
// the cgroup's CPUs switch faster than a few map reads, in which case a slice
// that ended during the read may be missing (never counted twice).
func (m *Meter) Read(cgroupID uint64) (Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Stats{}, errClosed
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
		after, err := m.running()
		if err != nil {
			return Stats{}, err
		}
		now := monotonic()
		if attempt < 3 && !settled(before, after, cgroupID) {
			continue
		}
		s := sum(vals)
		addRunning(&s, after, cgroupID, now)
		return s, nil
	}
}

// ReadAll returns the counters of every cgroup the meter has seen, and of
// every cgroup running now. It does not retry (see Read): with many cgroups
// the read takes long enough that CPUs always switch meanwhile, so a slice
// ending during the read may be missing from its cgroup.
func (m *Meter) ReadAll() (map[uint64]Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	out := make(map[uint64]Stats)
	var (
		id   uint64
		vals []cpuCgCpu
	)
	it := m.objs.Cgroups.Iterate()
	for it.Next(&id, &vals) {
		out[id] = sum(vals)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read cpu meter: %w", err)
	}
	after, err := m.running()
	if err != nil {
		return nil, err
	}
	now := monotonic()
	for _, r := range after {
		if r.CgroupId == 0 {
			continue
		}
		s := out[r.CgroupId]
		addRunning(&s, []cpuRunning{r}, r.CgroupId, now)
		out[r.CgroupId] = s
	}
	return out, nil
}

// Forget drops the cgroup's counters. Call it once the cgroup is gone; a
// cgroup that still runs starts again from zero.
func (m *Meter) Forget(cgroupID uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	if err := m.objs.Cgroups.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// Lost returns how many times a cgroup could not be counted because the
// meter's table was full (16384 cgroups); the agent should warn when it grows.
func (m *Meter) Lost() (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, errClosed
	}
	var vals []cpuLost
	if err := m.objs.Losses.Lookup(uint32(0), &vals); err != nil {
		return 0, fmt.Errorf("read cpu meter losses: %w", err)
	}
	var n uint64
	for _, v := range vals {
		n += v.CgroupFull
	}
	return n, nil
}

func (m *Meter) running() ([]cpuRunning, error) {
	var runs []cpuRunning
	if err := m.objs.Runs.Lookup(uint32(0), &runs); err != nil {
		return nil, fmt.Errorf("read running slices: %w", err)
	}
	return runs, nil
}

// settled reports whether no CPU that ran the cgroup, before or after,
// switched tasks between the two readings.
func settled(before, after []cpuRunning, id uint64) bool {
	for i := range after {
		if i >= len(before) {
			return false
		}
		if (before[i].CgroupId == id || after[i].CgroupId == id) && before[i].Seq != after[i].Seq {
			return false
		}
	}
	return true
}

func sum(vals []cpuCgCpu) Stats {
	var s Stats
	var on, delay uint64
	for _, v := range vals {
		on += v.OnCpuNs
		s.Switches += v.Switches
		s.Involuntary += v.Involuntary
		delay += v.DelayNs
		s.RunQueue.Count += v.Delays
		for i, c := range v.DelaySlot {
			s.RunQueue.Slots[i] += c
		}
	}
	s.OnCPU = time.Duration(on)
	s.RunQueue.Sum = time.Duration(delay)
	return s
}

// addRunning adds the slices of cgroup id running on any CPU at now.
func addRunning(s *Stats, runs []cpuRunning, id uint64, now uint64) {
	for _, r := range runs {
		if r.CgroupId != id || r.StartNs == 0 {
			continue
		}
		s.Running++
		if now > r.StartNs {
			s.OnCPU += time.Duration(now - r.StartNs)
		}
	}
}

// monotonic reads the clock bpf_ktime_get_ns uses.
func monotonic() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}
