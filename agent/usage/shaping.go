package usage

import (
	"time"

	"github.com/cairnhq/cairn/ids"
)

// TrafficClass is one traffic control class a container's packets go
// through, with the kernel's counters (Mesos's TrafficControlStatistics).
// A class can be shared: the egress class of a framework carries every one
// of its containers on the agent.
type TrafficClass struct {
	ID         string
	Backlog    uint64 // bytes queued now
	Bytes      uint64
	Drops      uint64
	Overlimits uint64
	Packets    uint64
	Qlen       uint64 // packets queued now
	// RateBps and RatePps are what went through per second since the
	// previous sample (Store computes them; 0 in the first sample).
	RateBps, RatePps uint64
	Requeues         uint64
}

// Shaping is how a container's traffic is limited and the classes that
// limit it.
type Shaping struct {
	TxRateLimit uint64 // bytes/s the container may send; 0: not limited
	RxRateLimit uint64 // bytes/s it may receive; 0: not limited
	Classes     []TrafficClass
	// TCP and Device are the container's TCP sockets and its own network
	// device (netsock.go); nil when not measured. They ride along with the
	// shaping because the same per-round network source reads them.
	TCP    *TCP
	Device *Device
}

// ShapingSource says how each container is shaped (the agent's bandwidth
// isolation). Called once per round with every target; containers missing
// from the result are not shaped. It may block on netlink and must be safe
// for concurrent use.
type ShapingSource interface {
	Shaping(targets []Target) (map[ids.ContainerID]Shaping, error)
}

// withRates fills the classes' RateBps/RatePps from the same classes in
// prev, dt before.
func withRates(cur Shaping, prev *Sample, dt time.Duration) Shaping {
	if prev == nil || !prev.Shaped || dt <= 0 {
		return cur
	}
	classes := make([]TrafficClass, len(cur.Classes))
	copy(classes, cur.Classes)
	for i := range classes {
		c := &classes[i]
		for _, p := range prev.Shaping.Classes {
			if p.ID == c.ID {
				c.RateBps = uint64(float64(delta(c.Bytes, p.Bytes)) / dt.Seconds())
				c.RatePps = uint64(float64(delta(c.Packets, p.Packets)) / dt.Seconds())
			}
		}
	}
	cur.Classes = classes
	return cur
}
