//go:build linux

package net

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Needs lists the kernel features Open requires.
var Needs = []bpf.Feature{bpf.CgroupSKB, bpf.PerCPUHashMaps}

// Meter is the loaded and attached network meter.
type Meter struct {
	mu     sync.RWMutex // write-held by Close, read-held by every map access
	closed bool
	objs   netObjects
	links  []link.Link
	gone   bpf.Tombstones
}

// Open loads the programs and attaches them, ingress and egress, to the
// cgroup v2 directory cgroupRoot, normally the root of the hierarchy
// (bpf.UnifiedRoot) so that every socket on the host is counted. The
// attachment is a bpf_link where the kernel has them (multi-attach
// otherwise), so it coexists with other programs on the same cgroup. When the
// kernel lacks a feature the error wraps bpf.ErrNotSupported and names it.
func Open(cgroupRoot string) (*Meter, error) {
	if err := bpf.Require(Needs...); err != nil {
		return nil, fmt.Errorf("open net meter: %w", err)
	}
	bpf.RemoveMemlock()
	m := &Meter{}
	if err := loadNetObjects(&m.objs, nil); err != nil {
		return nil, fmt.Errorf("load net meter: %w", err)
	}
	for _, a := range []struct {
		prog   *ebpf.Program
		attach ebpf.AttachType
	}{
		{m.objs.CountIngress, ebpf.AttachCGroupInetIngress},
		{m.objs.CountEgress, ebpf.AttachCGroupInetEgress},
	} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroupRoot, Attach: a.attach, Program: a.prog})
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("attach net meter to %s: %w", cgroupRoot, err)
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
		return fmt.Errorf("close net meter: %w", err)
	}
	return nil
}

var errClosed = errors.New("net meter is closed")

// Lost returns how many packets went uncounted because the meter's table was
// full (16384 cgroups); the agent should warn when it grows.
func (m *Meter) Lost() (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, errClosed
	}
	var vals []netLost
	if err := m.objs.Losses.Lookup(uint32(0), &vals); err != nil {
		return 0, fmt.Errorf("read net meter losses: %w", err)
	}
	var n uint64
	for _, v := range vals {
		n += v.CgroupFull
	}
	return n, nil
}
