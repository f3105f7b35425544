package usage

import (
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// Pressure counts a container's memory pressure events per level, as Mesos's
// mem_low|medium|critical_pressure_counter: low includes medium and
// critical (a listener is signalled for its level and every higher one).
type Pressure struct {
	Low, Medium, Critical uint64
}

// PressureSource counts memory pressure events per container, cumulative
// since it first saw the container. ok is false for a container whose
// events are not counted. It must not block.
type PressureSource interface {
	Pressure(id ids.ContainerID) (p Pressure, ok bool)
}

// DiskSource knows the size of each container's sandbox as last measured
// (measuring walks directories: it happens elsewhere, at a lower rate). ok
// is false before the first measurement. It must not block.
type DiskSource interface {
	DiskUsed(id ids.ContainerID) (bytes uint64, ok bool)
}

// memDisk adds the figures of the pressure and disk sources to a
// container's counters.
func (src *Sources) memDisk(t Target, c *Counters) {
	c.DiskLimit = t.DiskLimit
	if src.Pressure != nil {
		c.Pressure, c.HasPressure = src.Pressure.Pressure(t.Container)
	}
	if src.Disk != nil {
		c.DiskUsed, c.HasDiskUsed = src.Disk.DiskUsed(t.Container)
	}
}

// memDiskFigures holds the optional values of Statistics' memory and disk
// keys, in one allocation.
type memDiskFigures struct {
	low, medium, critical uint64
	limit, used           uint64
}

// memDiskStatistics sets the memory and disk keys of out (Statistics).
func (s *Sample) memDiskStatistics(out *Statistics) {
	out.MemSoftLimitBytes, out.MemUnevictableBytes = s.MemSoftLimit, s.MemUnevictable
	if !s.HasPressure && s.DiskLimit == 0 && !s.HasDiskUsed {
		return
	}
	f := &memDiskFigures{s.Pressure.Low, s.Pressure.Medium, s.Pressure.Critical, s.DiskLimit, s.DiskUsed}
	if s.HasPressure {
		out.MemLowPressureCounter, out.MemMediumPressureCounter, out.MemCriticalPressureCounter = &f.low, &f.medium, &f.critical
	}
	if s.DiskLimit > 0 {
		out.DiskLimitBytes = &f.limit
	}
	if s.HasDiskUsed {
		out.DiskUsedBytes = &f.used
	}
}

// appendMemDiskJSON appends the keys memDiskStatistics sets, in the order
// of Statistics' fields.
func (s *Sample) appendMemDiskJSON(b []byte) []byte {
	b = appendUintKey(b, "mem_soft_limit_bytes", s.MemSoftLimit)
	b = appendUintKey(b, "mem_unevictable_bytes", s.MemUnevictable)
	if s.HasPressure {
		b = appendUintKey(b, "mem_low_pressure_counter", s.Pressure.Low)
		b = appendUintKey(b, "mem_medium_pressure_counter", s.Pressure.Medium)
		b = appendUintKey(b, "mem_critical_pressure_counter", s.Pressure.Critical)
	}
	if s.DiskLimit > 0 {
		b = appendUintKey(b, "disk_limit_bytes", s.DiskLimit)
	}
	if s.HasDiskUsed {
		b = appendUintKey(b, "disk_used_bytes", s.DiskUsed)
	}
	return b
}

// memDiskProto sets the memory and disk fields of a ResourceStatistics.
func (s *Sample) memDiskProto(out *mesospb.ResourceStatistics) {
	out.MemSoftLimitBytes = proto.Uint64(s.MemSoftLimit)
	out.MemUnevictableBytes = proto.Uint64(s.MemUnevictable)
	if s.HasPressure {
		out.MemLowPressureCounter = proto.Uint64(s.Pressure.Low)
		out.MemMediumPressureCounter = proto.Uint64(s.Pressure.Medium)
		out.MemCriticalPressureCounter = proto.Uint64(s.Pressure.Critical)
	}
	if s.DiskLimit > 0 {
		out.DiskLimitBytes = proto.Uint64(s.DiskLimit)
	}
	if s.HasDiskUsed {
		out.DiskUsedBytes = proto.Uint64(s.DiskUsed)
	}
}
