package usage

import (
	"cmp"
	"slices"
	"time"

	"github.com/cairnhq/cairn/bpf/cpu"
	"github.com/cairnhq/cairn/ids"
)

// DefaultCapacity is 15 minutes of samples at one per second.
const DefaultCapacity = 900

// recoveredCPUGap is how far a container's cgroup CPU time may run ahead of
// the eBPF meter's at its first reading before the container is taken to
// predate the meter (an agent restart re-attached it); launch costs only
// milliseconds of difference.
const recoveredCPUGap = 100 * time.Millisecond

// Store keeps the samples of every container. Not safe for concurrent use.
type Store struct {
	capacity int
	series   map[ids.ContainerID]*series
	byCgroup map[uint64]*series
}

type series struct {
	Target
	ring  ring
	ended time.Time // zero while running

	prevRunQueue cpu.Histogram
	haveRunQueue bool
	// cpuBase carries a recovered container's CPU time from before the
	// meter was attached (see Apply).
	cpuBase  time.Duration
	cpuSeen  bool
	peak     uint64
	ebpfOOMs uint64
}

// NewStore returns an empty store keeping capacity samples per container
// (DefaultCapacity when ≤ 0).
func NewStore(capacity int) *Store {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Store{capacity: capacity, series: map[ids.ContainerID]*series{}, byCgroup: map[uint64]*series{}}
}

// Apply records a round taken at now. The round's targets are the running
// containers: new ones are added, labels of known ones updated, and running
// containers missing from the round are marked ended (their samples stay
// until Expire or Forget). It returns the targets that ended, whose cgroups
// the meters may forget. A reading whose counters failed (the container
// exited meanwhile) adds no sample.
//
// eBPF counters start when the meters are attached; cgroup counters when the
// container does. A container whose cgroup CPU time is well ahead of the
// meter's at its first eBPF reading was running before the meter (the agent
// restarted), and its on-CPU time is carried over from the cgroup's, so that
// cpus_oncpu_time_secs keeps counting since the container started.
func (s *Store) Apply(now time.Time, r Round) (ended []Target) {
	running := make(map[ids.ContainerID]bool, len(r.Targets))
	for _, t := range r.Targets {
		running[t.Container] = true
		s.track(t)
	}
	for id, se := range s.series {
		if !running[id] && se.ended.IsZero() {
			se.ended = now
			ended = append(ended, se.Target)
		}
	}
	for i := range r.Readings {
		rd := &r.Readings[i]
		se := s.series[rd.Container]
		if rd.Err != nil || se == nil {
			continue
		}
		se.ring.push(se.sample(now, rd))
	}
	return ended
}

func (s *Store) track(t Target) {
	se := s.series[t.Container]
	if se == nil {
		se = &series{ring: newRing(s.capacity)}
		s.series[t.Container] = se
	}
	if se.CgroupID != t.CgroupID {
		delete(s.byCgroup, se.CgroupID)
	}
	se.Target = t
	se.ended = time.Time{}
	if t.CgroupID != 0 {
		s.byCgroup[t.CgroupID] = se
	}
}

func (se *series) sample(now time.Time, rd *Reading) Sample {
	out := Sample{Time: now, Counters: rd.Counters, CPUsLimit: rd.CPUsLimit}
	if rd.HasCPU {
		c := &rd.CPU
		if !se.cpuSeen {
			se.cpuSeen = true
			if gap := rd.Counters.CPUTotal - c.OnCPU; gap > recoveredCPUGap {
				se.cpuBase = gap
			}
		}
		out.EBPF = true
		out.OnCPU = se.cpuBase + c.OnCPU
		out.Switches, out.Involuntary = c.Switches, c.Involuntary
		out.RunQueueTotal = c.RunQueue.Sum
		recent := c.RunQueue
		if se.haveRunQueue {
			recent = c.RunQueue.Sub(se.prevRunQueue)
		}
		out.RunQueueP50, out.RunQueueP99 = recent.Quantile(0.5), recent.Quantile(0.99)
		se.prevRunQueue, se.haveRunQueue = c.RunQueue, true
	}
	if rd.HasNet {
		out.Net = true
		out.NetRxBytes, out.NetRxPackets = rd.Net.RxBytes, rd.Net.RxPackets
		out.NetTxBytes, out.NetTxPackets = rd.Net.TxBytes, rd.Net.TxPackets
	}
	if rd.Shaping != nil {
		cur, _ := se.ring.last()
		var dt time.Duration
		if cur != nil {
			dt = now.Sub(cur.Time)
		}
		out.Shaped, out.Shaping = true, withRates(*rd.Shaping, cur, dt)
	}
	se.peak = max(se.peak, rd.Peak, rd.Counters.MemRSS)
	out.RSSPeak = se.peak
	out.OOMKills = max(se.ebpfOOMs, rd.Counters.OOMKills)
	return out
}

// OOM records an OOM kill the memory meter saw in cgroup cgroupID, with the
// cgroup's peak RSS as the meter knew it. The latest sample learns of it
// too: a container whose only process was killed ends before the next
// round. It returns the container, false when no container has that cgroup.
func (s *Store) OOM(cgroupID, peakRSS uint64) (ids.ContainerID, bool) {
	se := s.byCgroup[cgroupID]
	if se == nil {
		return "", false
	}
	se.ebpfOOMs++
	se.peak = max(se.peak, peakRSS)
	if cur, _ := se.ring.last(); cur != nil {
		cur.OOMKills = max(cur.OOMKills, se.ebpfOOMs)
		cur.RSSPeak = se.peak
	}
	return se.Container, true
}

// Expire forgets the containers that ended at least keep before now and
// returns them.
func (s *Store) Expire(now time.Time, keep time.Duration) []ids.ContainerID {
	var out []ids.ContainerID
	for id, se := range s.series {
		if !se.ended.IsZero() && !now.Before(se.ended.Add(keep)) {
			out = append(out, id)
		}
	}
	for _, id := range out {
		s.Forget(id)
	}
	return out
}

// Forget drops a container and its samples; a no-op for an unknown one.
func (s *Store) Forget(id ids.ContainerID) {
	se := s.series[id]
	if se == nil {
		return
	}
	if s.byCgroup[se.CgroupID] == se {
		delete(s.byCgroup, se.CgroupID)
	}
	delete(s.series, id)
}

// Len returns how many containers the store keeps, ended ones included.
func (s *Store) Len() int { return len(s.series) }

// View is what the store knows about one container.
type View struct {
	Target
	Ended  time.Time // zero while running
	Latest Sample    // zero Time when there is no sample yet
	Rates  Rates     // between the two latest samples
}

func (se *series) view() View {
	v := View{Target: se.Target, Ended: se.ended}
	if cur, prev := se.ring.last(); cur != nil {
		v.Latest = *cur
		v.Rates = rates(prev, cur)
	}
	return v
}

// Get returns what the store knows about a container.
func (s *Store) Get(id ids.ContainerID) (View, bool) {
	se := s.series[id]
	if se == nil {
		return View{}, false
	}
	return se.view(), true
}

// Running returns the running containers that have at least one sample,
// sorted by container id.
func (s *Store) Running() []View {
	out := make([]View, 0, len(s.series))
	for _, se := range s.series {
		if se.ended.IsZero() && se.ring.len() > 0 {
			out = append(out, se.view())
		}
	}
	slices.SortFunc(out, func(a, b View) int { return cmp.Compare(a.Container, b.Container) })
	return out
}

// History returns a container's samples taken at or after since, oldest
// first.
func (s *Store) History(id ids.ContainerID, since time.Time) (View, []Sample, bool) {
	se := s.series[id]
	if se == nil {
		return View{}, nil, false
	}
	return se.view(), se.ring.since(since, nil), true
}

// FindTask returns the container of a task: the running one if any, else
// the one that ended last.
func (s *Store) FindTask(fw ids.FrameworkID, task ids.TaskID) (ids.ContainerID, bool) {
	var best *series
	for _, se := range s.series {
		if se.TaskID != task || (fw != "" && se.FrameworkID != fw) {
			continue
		}
		if best == nil || later(se, best) {
			best = se
		}
	}
	if best == nil {
		return "", false
	}
	return best.Container, true
}

// later reports whether a is to be preferred over b: running beats ended,
// and among ended the later end.
func later(a, b *series) bool {
	switch {
	case a.ended.IsZero() != b.ended.IsZero():
		return a.ended.IsZero()
	default:
		return a.ended.After(b.ended)
	}
}

// Totals sums the rates of the running containers: what the agent measured
// its tasks using.
func (s *Store) Totals() Rates {
	var t Rates
	for _, se := range s.series {
		if !se.ended.IsZero() {
			continue
		}
		cur, prev := se.ring.last()
		if cur == nil {
			continue
		}
		r := rates(prev, cur)
		t.MemBytes += r.MemBytes
		t.CPUs += r.CPUs
		t.RxBps += r.RxBps
		t.TxBps += r.TxBps
		t.HaveRates = t.HaveRates || r.HaveRates
	}
	return t
}
