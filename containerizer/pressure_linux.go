package containerizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/ids"
)

// pressureLevels are the levels of cgroup v1 memory.pressure_level, in the
// order MemoryPressure counts them. A listener at a level is also signalled
// for every higher one (the kernel's vmpressure_event), so the low count
// includes the medium and critical events, as Mesos's counters do.
var pressureLevels = [3]string{"low", "medium", "critical"}

// MemoryPressure counts a container's memory pressure events: the reclaim
// the kernel does in its memory cgroup, by level, as Mesos's cgroups/mem
// isolator counts them (mem_low|medium|critical_pressure_counter). It holds
// one eventfd per level registered with the cgroup v1 memory controller;
// the kernel adds each event to the eventfd's counter, and Read collects
// them without blocking. Safe for concurrent use.
type MemoryPressure struct {
	mu     sync.Mutex
	fds    [3]int // eventfds, -1 once closed
	counts [3]uint64
}

// WatchMemoryPressure registers pressure listeners on the container's
// memory cgroup. Only cgroup v1 has memory.pressure_level: on a host whose
// memory controller is v2 it fails with errors.ErrUnsupported. The caller
// closes the watch when the container goes (removing the cgroup signals
// each eventfd once more and unregisters it; the descriptors stay open until
// Close).
func (l *Linux) WatchMemoryPressure(id ids.ContainerID) (*MemoryPressure, error) {
	if l.host.mode == modeUnified {
		return nil, fmt.Errorf("watch memory pressure of container %s: cgroup v2 has no memory.pressure_level: %w", id, errors.ErrUnsupported)
	}
	dirs, err := l.cgroupDirs(id)
	if err != nil {
		return nil, fmt.Errorf("watch memory pressure of container %s: %w", id, err)
	}
	p, err := watchPressure(dirs["memory"])
	if err != nil {
		return nil, fmt.Errorf("watch memory pressure of container %s: %w", id, err)
	}
	return p, nil
}

// watchPressure registers the three listeners on a v1 memory cgroup
// directory.
func watchPressure(dir string) (_ *MemoryPressure, err error) {
	if dir == "" {
		return nil, errors.New("no memory cgroup")
	}
	p := &MemoryPressure{fds: [3]int{-1, -1, -1}}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	// The kernel keeps no reference to the level file once an event is
	// registered: the eventfd alone keeps the listener alive.
	level, err := os.Open(filepath.Join(dir, "memory.pressure_level"))
	if err != nil {
		return nil, err
	}
	defer level.Close()
	ctl, err := os.OpenFile(filepath.Join(dir, "cgroup.event_control"), os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	for i, name := range pressureLevels {
		if p.fds[i], err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
			return nil, fmt.Errorf("eventfd: %w", err)
		}
		line := strconv.Itoa(p.fds[i]) + " " + strconv.Itoa(int(level.Fd())) + " " + name
		if _, err := ctl.WriteString(line); err != nil {
			return nil, fmt.Errorf("register %s pressure listener: %w", name, err)
		}
	}
	return p, nil
}

// Read returns the events counted since the watch began, per level (low
// includes medium and critical). Each call drains the eventfds without
// blocking; after Close it returns the last counts.
func (p *MemoryPressure) Read() (low, medium, critical uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var buf [8]byte
	for i, fd := range p.fds {
		if fd < 0 {
			continue
		}
		// A read returns the eventfd's counter and resets it; EAGAIN
		// means no event since the last read.
		if n, err := unix.Read(fd, buf[:]); err == nil && n == 8 {
			p.counts[i] += binary.NativeEndian.Uint64(buf[:])
		}
	}
	return p.counts[0], p.counts[1], p.counts[2]
}

// Close closes the eventfds, which unregisters the listeners of a cgroup
// still there; idempotent.
func (p *MemoryPressure) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for i, fd := range p.fds {
		if fd >= 0 {
			errs = append(errs, unix.Close(fd))
			p.fds[i] = -1
		}
	}
	return errors.Join(errs...)
}
