//go:build linux

package mem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// Needs lists the kernel features Open requires.
var Needs = []bpf.Feature{
	bpf.KernelBTF, bpf.TracingPrograms, bpf.PerCPUHashMaps, bpf.RingBufMaps,
	bpf.OOMTracepoint, bpf.RSSTracepoint,
}

// OOMEvent is one OOM kill.
type OOMEvent struct {
	Time     time.Time // when the victim was picked
	CgroupID uint64    // the victim's cgroup v2 id
	PID      int       // the victim process
	TID      int       // the thread the OOM killer picked
	UID      uint32
	Comm     string // the victim's name (at most 15 bytes)
	RSS      uint64 // bytes, the victim's RSS when picked
	PeakRSS  uint64 // bytes, the cgroup's peak RSS as known when the event was read
}

// Meter is the loaded and attached memory meter.
type Meter struct {
	mu     sync.RWMutex // write-held by Close, read-held by every map access
	closed bool
	objs   memObjects
	links  []link.Link
	rd     *ringbuf.Reader
	events chan OOMEvent
	done   chan struct{}
	wg     sync.WaitGroup
	page   uint64
	gone   bpf.Tombstones
}

// Open loads the programs, attaches them and starts delivering OOM events.
// When the kernel lacks a feature the error wraps bpf.ErrNotSupported and
// names it (see bpf.IsMissing).
func Open() (*Meter, error) {
	if err := bpf.Require(Needs...); err != nil {
		return nil, fmt.Errorf("open mem meter: %w", err)
	}
	bpf.RemoveMemlock()
	m := &Meter{events: make(chan OOMEvent, 64), done: make(chan struct{}), page: uint64(os.Getpagesize())}
	if err := loadMemObjects(&m.objs, nil); err != nil {
		return nil, fmt.Errorf("load mem meter: %w", err)
	}
	rd, err := ringbuf.NewReader(m.objs.OomEvents)
	if err != nil {
		m.objs.Close()
		return nil, fmt.Errorf("open mem meter events: %w", err)
	}
	m.rd = rd
	for _, p := range []*ebpf.Program{m.objs.OnRssStat, m.objs.OnMarkVictim} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			m.close()
			return nil, fmt.Errorf("attach mem meter %s: %w", p, err)
		}
		m.links = append(m.links, l)
	}
	m.wg.Add(1)
	go m.deliver()
	return m, nil
}

// Events returns the channel OOM kills arrive on, oldest first. It is closed
// by Close. Every Events call returns the same channel.
func (m *Meter) Events() <-chan OOMEvent { return m.events }

func (m *Meter) deliver() {
	defer m.wg.Done()
	defer close(m.events)
	var rec ringbuf.Record
	for {
		if err := m.rd.ReadInto(&rec); err != nil {
			return // closed; the reader has no other failure we could act on
		}
		ev, ok := m.decode(rec.RawSample)
		if !ok {
			continue
		}
		select {
		case m.events <- ev:
		case <-m.done:
			return
		}
	}
}

// Lost returns how many OOM events found the ring buffer full, and how many
// RSS changes found the cgroup table full (16384 cgroups).
func (m *Meter) Lost() (events, peaks uint64, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, 0, errClosed
	}
	var vals []memLost
	if err := m.objs.Losses.Lookup(uint32(0), &vals); err != nil {
		return 0, 0, fmt.Errorf("read mem meter losses: %w", err)
	}
	for _, v := range vals {
		events += v.Events
		peaks += v.CgroupFull
	}
	return events, peaks, nil
}

// Close detaches the programs, stops event delivery (events not yet received
// are dropped), closes the Events channel and frees the maps. It is
// idempotent.
func (m *Meter) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	close(m.done)
	return m.close()
}

// close releases everything Open acquired, in reverse order.
func (m *Meter) close() error {
	var errs []error
	for _, l := range m.links {
		errs = append(errs, l.Close())
	}
	if m.rd != nil {
		errs = append(errs, m.rd.Close())
		m.wg.Wait()
	}
	errs = append(errs, m.objs.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close mem meter: %w", err)
	}
	return nil
}

var errClosed = errors.New("mem meter is closed")

// decode turns a ring buffer record into an event. The peak is read here
// without m.mu: Close waits for this goroutine while holding m.mu, and the
// maps outlive the goroutine.
func (m *Meter) decode(raw []byte) (OOMEvent, bool) {
	// The kernel wrote struct oom_event in host byte order, little-endian
	// on every architecture bpf2go built this package for.
	var e memOomEvent
	if _, err := binary.Decode(raw, binary.LittleEndian, &e); err != nil {
		return OOMEvent{}, false
	}
	peak, _ := m.peak(e.CgroupId)
	return OOMEvent{
		Time:     monoToWall(e.TimeNs),
		CgroupID: e.CgroupId,
		PID:      int(e.Pid),
		TID:      int(e.Tid),
		UID:      e.Uid,
		Comm:     comm(e.Comm),
		RSS:      e.RssPages * m.page,
		PeakRSS:  peak,
	}, true
}

// monoToWall converts a CLOCK_MONOTONIC reading (bpf_ktime_get_ns) to wall
// clock time, by the distance from now.
func monoToWall(ns uint64) time.Time {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	now := time.Now()
	return now.Add(-time.Duration(uint64(ts.Nano()) - ns))
}

func comm(c [16]int8) string {
	b := make([]byte, 0, len(c))
	for _, x := range c {
		if x == 0 {
			break
		}
		b = append(b, byte(x))
	}
	return string(b)
}
