package usage

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/bpf/net"
	"github.com/cairnhq/cairn/ids"
)

// CgroupSource reads a container's cgroup counters. It fails for a
// container that is gone (or going: its cgroups removed). It may block on
// file reads and must be safe for concurrent use.
type CgroupSource interface {
	Counters(id ids.ContainerID) (Counters, error)
}

// CPUSource is the eBPF CPU meter (*cpu.Meter): counters of every cgroup
// it has seen, keyed by cgroup v2 id, cumulative since it was attached.
type CPUSource interface {
	ReadAll() (map[uint64]cpu.Stats, error)
}

// NetSource is the eBPF network meter (*net.Meter).
type NetSource interface {
	ReadAll() (map[uint64]net.Stats, error)
}

// PeakSource is the eBPF memory meter (*mem.Meter): peak RSS in bytes per
// cgroup.
type PeakSource interface {
	PeakAll() (map[uint64]uint64, error)
}

// Sources are where a round's figures come from. Cgroups is required; a
// nil meter is not used (the agent measures with cgroup counters only).
type Sources struct {
	Cgroups CgroupSource
	CPU     CPUSource
	Net     NetSource
	Peak    PeakSource
	// Shaping, when set, is the bandwidth isolation's view of each
	// container (rate limits and traffic control classes).
	Shaping ShapingSource
	// Pressure, when set, counts memory pressure events; Disk, when set,
	// knows the size of each sandbox.
	Pressure PressureSource
	Disk     DiskSource
}

// Reading is what one round read about one container.
type Reading struct {
	Target
	Counters Counters
	// Err is set when the cgroup counters could not be read: the container
	// exited (or is being destroyed) since it was listed. The round then
	// records no sample for it.
	Err error

	CPU     cpu.Stats
	HasCPU  bool
	Net     net.Stats
	HasNet  bool
	Peak    uint64
	HasPeak bool
	// Shaping is set when the container is shaped (Sources.Shaping).
	Shaping *Shaping
}

// Round is one sampling round: a reading per target, in target order.
type Round struct {
	Targets  []Target
	Readings []Reading
	// Err joins the meters that could not be read this round; their figures
	// are missing from every reading (counters of cgroups are not affected).
	Err error
}

// Read reads one round: one full read of each meter (one syscall walk per
// meter, however many containers), then each target's cgroup counters.
func Read(src Sources, targets []Target) Round {
	r := Round{Targets: targets, Readings: make([]Reading, len(targets))}
	var errs []error
	var cpus map[uint64]cpu.Stats
	var nets map[uint64]net.Stats
	var peaks map[uint64]uint64
	var err error
	var haveCPU, haveNet, havePeak bool
	if src.CPU != nil {
		if cpus, err = src.CPU.ReadAll(); err != nil {
			errs = append(errs, fmt.Errorf("read cpu meter: %w", err))
		}
		haveCPU = err == nil
	}
	if src.Net != nil {
		if nets, err = src.Net.ReadAll(); err != nil {
			errs = append(errs, fmt.Errorf("read net meter: %w", err))
		}
		haveNet = err == nil
	}
	if src.Peak != nil {
		if peaks, err = src.Peak.PeakAll(); err != nil {
			errs = append(errs, fmt.Errorf("read mem meter: %w", err))
		}
		havePeak = err == nil
	}
	var shaped map[ids.ContainerID]Shaping
	if src.Shaping != nil {
		if shaped, err = src.Shaping.Shaping(targets); err != nil {
			errs = append(errs, fmt.Errorf("read traffic control: %w", err))
		}
	}
	for i, t := range targets {
		rd := &r.Readings[i]
		rd.Target = t
		if sh, ok := shaped[t.Container]; ok {
			rd.Shaping = &sh
		}
		rd.Counters, rd.Err = src.Cgroups.Counters(t.Container)
		if rd.Err == nil {
			src.memDisk(t, &rd.Counters)
		}
		if t.CgroupID == 0 {
			continue
		}
		// A cgroup missing from a map that was read has used nothing yet.
		if haveCPU {
			rd.CPU, rd.HasCPU = cpus[t.CgroupID], true
		}
		if haveNet {
			rd.Net, rd.HasNet = nets[t.CgroupID], true
		}
		if havePeak {
			rd.Peak, rd.HasPeak = peaks[t.CgroupID], true
		}
	}
	r.Err = errors.Join(errs...)
	return r
}
