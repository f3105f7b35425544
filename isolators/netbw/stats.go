//go:build linux

package netbw

import (
	"slices"

	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/cairnhq/cairn/ids"
)

// ClassStats are one leaf class's settings and the kernel's counters for it.
// Bytes are what HTB charges: L2 frames (Ethernet header included), GSO
// packets counted per segment with their headers.
type ClassStats struct {
	Framework  ids.FrameworkID // empty for the default class
	ClassID    uint32
	Rate, Ceil uint64 // bit/s
	Bytes      uint64
	Packets    uint64
	Drops      uint64 // packets dropped by the class's queue
	Overlimits uint64 // times the class had to wait for tokens
	Backlog    uint64 // bytes queued now
}

// Stats returns the default class first, then the frameworks' by class id.
func (i *Isolator) Stats() ([]ClassStats, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, errClosed
	}
	kernel, err := classes(i.h, i.link)
	if err != nil {
		return nil, err
	}
	owner := map[uint16]ids.FrameworkID{}
	for fw, f := range i.fws {
		owner[f.minor] = fw
	}
	var out []ClassStats
	for minor, c := range kernel {
		fw, known := owner[minor]
		if minor != defaultMinor && !known {
			continue
		}
		s := ClassStats{Framework: fw, ClassID: tcclass.ClassID(minor), Rate: c.Rate * 8, Ceil: c.Ceil * 8}
		if st := c.Statistics; st != nil {
			if st.Basic != nil {
				s.Bytes, s.Packets = st.Basic.Bytes, uint64(st.Basic.Packets)
			}
			if st.Queue != nil {
				s.Drops, s.Overlimits, s.Backlog = uint64(st.Queue.Drops), uint64(st.Queue.Overlimits), uint64(st.Queue.Backlog)
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ClassStats) int { return int(a.ClassID) - int(b.ClassID) })
	return out, nil
}
