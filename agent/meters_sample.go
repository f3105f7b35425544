package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/gossip"
)

// sampleUsage runs a sampling round every usageInterval until ctx ends.
func (a *Agent) sampleUsage(ctx context.Context) {
	stop := a.usage.startMemDisk(ctx, a.cfg.ContainerDiskWatchInterval)
	defer stop()
	a.usage.src.Shaping = a.withNetSockets(a.usage.src.Shaping) // meters_net.go
	t := time.NewTicker(usageInterval)
	defer t.Stop()
	for {
		var targets []usage.Target
		if err := a.do(ctx, func(st *state) { targets = usageTargets(st) }); err != nil {
			return
		}
		now := time.Now()
		a.usage.round(now, targets)
		if a.usage.measuredChanged(now) {
			a.availabilityChanged()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// usageTargets lists the containers to sample: those launched (or
// recovered) whose executor has not exited. Runs on the loop.
func usageTargets(st *state) []usage.Target {
	var out []usage.Target
	for fwID, fw := range st.frameworks {
		for _, e := range fw.executors {
			if !e.launched || e.exited {
				continue
			}
			t := usage.Target{
				Container: e.container,
				CPUsLimit: e.cpus,
				DiskLimit: diskBytes(e),
				Sandbox:   e.sandbox,
				Labels: usage.Labels{
					FrameworkID:  fwID,
					ExecutorID:   e.core.ID,
					ExecutorName: e.info.GetName(),
				},
			}
			if ts := e.core.Tasks(); len(ts) > 0 {
				t.TaskID = ids.TaskID(ts[0].Info.GetTaskId().GetValue())
			}
			out = append(out, t)
		}
	}
	return out
}

// round reads and records one sampling round, then lets the meters forget
// the cgroups of containers that ended. Sampler goroutine only.
func (u *usageMonitor) round(now time.Time, targets []usage.Target) {
	// Resolved with or without the eBPF meters: the TCP figures of
	// containers on the host network are grouped by it too (meters_net.go).
	for i := range targets {
		targets[i].CgroupID = u.cgroupOf(targets[i].Container)
	}
	if u.disk != nil {
		u.disk.track(targets)
	}
	r := usage.Read(u.src, targets)
	if r.Err != nil && r.Err.Error() != u.lastErr {
		u.log.Warn("read eBPF meters; this round's samples lack their figures", "err", r.Err)
	}
	u.lastErr = ""
	if r.Err != nil {
		u.lastErr = r.Err.Error()
	}
	u.mu.Lock()
	ended := u.store.Apply(now, r)
	u.store.Expire(now, usageRetention)
	u.gen++
	u.mu.Unlock()
	u.rounds++
	if u.meters != nil && u.rounds%60 == 0 {
		if lost := u.meters.losses(); lost > u.lost {
			u.log.Warn("eBPF meters' tables are full; some usage went uncounted", "lost", lost-u.lost)
			u.lost = lost
		}
	}
	for _, t := range ended {
		delete(u.cgroups, t.Container)
		if u.pressure != nil {
			u.pressure.forget(t.Container)
		}
		if u.meters != nil && t.CgroupID != 0 {
			// Cgroup ids are not reused while the host runs: the counters
			// are of no further use once the store has the samples.
			if err := u.meters.forget(t.CgroupID); err != nil {
				u.log.Debug("forget cgroup in meters", "container_id", string(t.Container), "err", err)
			}
		}
	}
}

// cgroupOf returns the container's cgroup v2 id, resolving it once; 0 when
// it has none or it cannot be read yet (tried again next round).
func (u *usageMonitor) cgroupOf(id ids.ContainerID) uint64 {
	if cg, ok := u.cgroups[id]; ok {
		return cg
	}
	cg, has, err := cgroupID(u.ctr, id)
	if err != nil {
		u.log.Debug("resolve container cgroup id", "container_id", string(id), "err", err)
		return 0
	}
	if !has {
		u.log.Debug("container has no cgroup v2 id; no eBPF figures for it", "container_id", string(id))
	}
	u.cgroups[id] = cg
	return cg
}

// oomMessage is the message of the TASK_FAILED update of a container the
// kernel OOM-killed in: the peak RSS it reached and its memory limit, from
// the samples and a fresh read of the memory meter and cgroup. "" when
// nothing is known (the caller keeps its own text).
func (a *Agent) oomMessage(c ids.ContainerID) string {
	u := a.usage
	if u == nil {
		return ""
	}
	var peak, limit uint64
	u.mu.Lock()
	if v, ok := u.store.Get(c); ok {
		peak, limit = v.Latest.RSSPeak, v.Latest.MemLimit
	}
	u.mu.Unlock()
	// The lean counters: containerizer.Linux's Usage reads libcontainer's
	// path map, which a concurrent Destroy edits.
	if cnt, err := (cgroupCounters{a.ctr}).Counters(c); err == nil {
		peak = max(peak, cnt.MemRSS)
		if cnt.MemLimit != 0 {
			limit = cnt.MemLimit
		}
	}
	if u.meters != nil {
		if cg, ok, err := cgroupID(a.ctr, c); ok && err == nil && cg != 0 {
			if p, err := u.meters.mem.PeakRSS(cg); err == nil {
				peak = max(peak, p)
			}
			u.mu.Lock()
			peak = max(peak, u.strays[cg])
			u.mu.Unlock()
		}
	}
	switch {
	case peak == 0:
		return ""
	case limit == 0:
		return "Memory limit exceeded: peak RSS " + mib(peak)
	}
	return "Memory limit exceeded: peak RSS " + mib(peak) + " of " + mib(limit) + " limit"
}

// mib formats bytes in MiB, with one decimal unless whole.
func mib(b uint64) string {
	if b%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// usageSource is what the agent measures usage with: "ebpf" or "cgroups"
// (for /state and /metrics).
func (a *Agent) usageSource() string {
	if a.usage == nil {
		return ""
	}
	return a.usage.source
}

// publishedUsage is the measured usage in the last availability record and
// when it was built.
type publishedUsage struct {
	usage gossip.Usage
	at    time.Time
}

// minRepublish spaces out republishing for measured usage alone: gossip
// carries every change to every member.
const minRepublish = 5 * time.Second

// measured returns the agent's measured totals, as gossip carries them.
func (u *usageMonitor) measured() gossip.Usage {
	if u == nil {
		return gossip.Usage{}
	}
	u.mu.Lock()
	t := u.store.Totals()
	u.mu.Unlock()
	return gossip.Usage{
		CPUsMilli: uint64(t.CPUs*1000 + 0.5),
		MemMB:     t.MemBytes >> 20,
		NetRxBps:  uint64(t.RxBps),
		NetTxBps:  uint64(t.TxBps),
	}
}

// notePublished remembers what an availability record carried.
func (u *usageMonitor) notePublished(m gossip.Usage, now time.Time) {
	if u == nil {
		return
	}
	u.mu.Lock()
	u.published = publishedUsage{m, now}
	u.mu.Unlock()
}

// measuredChanged reports whether the measured usage moved materially since
// it was last published, and that was long enough ago.
func (u *usageMonitor) measuredChanged(now time.Time) bool {
	cur := u.measured()
	u.mu.Lock()
	p := u.published
	u.mu.Unlock()
	return now.Sub(p.at) >= minRepublish && materialChange(p.usage, cur)
}

// materialChange says whether measured usage moved enough to tell the
// master: 50 millicpus or 10 %, 64 MB or 10 %, 128 KiB/s or 10 % of traffic.
func materialChange(old, cur gossip.Usage) bool {
	moved := func(a, b, floor uint64) bool {
		d := max(a, b) - min(a, b)
		return d >= floor && d*10 >= max(a, b)
	}
	return moved(old.CPUsMilli, cur.CPUsMilli, 50) || moved(old.MemMB, cur.MemMB, 64) ||
		moved(old.NetRxBps, cur.NetRxBps, 128<<10) || moved(old.NetTxBps, cur.NetTxBps, 128<<10)
}
