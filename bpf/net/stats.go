package net

// Stats is one cgroup's traffic, cumulative since Open.
type Stats struct {
	RxBytes, RxPackets uint64 // received by the cgroup's sockets
	TxBytes, TxPackets uint64 // sent by them
}

// Sub returns the traffic between old and s, two readings of the same
// cgroup; a counter that went backwards (the cgroup was forgotten and
// counted anew) yields its current value.
func (s Stats) Sub(old Stats) Stats {
	return Stats{
		RxBytes: sub(s.RxBytes, old.RxBytes), RxPackets: sub(s.RxPackets, old.RxPackets),
		TxBytes: sub(s.TxBytes, old.TxBytes), TxPackets: sub(s.TxPackets, old.TxPackets),
	}
}

func sub(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return a - b
}
