//go:build linux

package cpu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Needs lists the kernel features Open requires.
var Needs = []bpf.Feature{
	bpf.KernelBTF, bpf.TracingPrograms, bpf.PerCPUHashMaps, bpf.SchedTracepoints,
}

// Meter is the loaded and attached CPU meter.
type Meter struct {
	mu     sync.RWMutex // write-held by Close, read-held by every map access
	closed bool
	objs   cpuObjects
	links  []link.Link
	gone   bpf.Tombstones
}

// Open loads the programs and attaches them to the scheduler tracepoints.
// When the kernel lacks a feature the error wraps bpf.ErrNotSupported and
// names it (see bpf.IsMissing).
func Open() (*Meter, error) {
	if err := bpf.Require(Needs...); err != nil {
		return nil, fmt.Errorf("open cpu meter: %w", err)
	}
	bpf.RemoveMemlock()
	m := &Meter{}
	if err := loadCpuObjects(&m.objs, nil); err != nil {
		return nil, fmt.Errorf("load cpu meter: %w", err)
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: m.objs.OnSwitch, AttachType: ebpf.AttachTraceRawTp})
	if err != nil {
		m.objs.Close()
		return nil, fmt.Errorf("attach cpu meter: %w", err)
	}
	m.links = append(m.links, l)
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
