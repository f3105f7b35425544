package netbw

import (
	"fmt"
	"math"
)

// Minors of the HTB tree. Framework classes take the lowest free minor from
// firstFrameworkMinor up; the frameworks map records whose each one is.
const (
	rootMinor           = 1 // inner class: the link
	defaultMinor        = 2 // leaf: the host and tasks without a request
	firstFrameworkMinor = 16
	lastFrameworkMinor  = 0xfffe
)

// Ceil is the policy for what a framework class may borrow.
type Ceil string

const (
	// CeilLink lets a framework borrow idle bandwidth up to the link: its
	// rate is a guarantee, not a limit.
	CeilLink Ceil = "link"
	// CeilRate makes a framework's rate a hard limit.
	CeilRate Ceil = "rate"
)

// ParseCeil reads the --egress_ceil flag; empty means CeilLink.
func ParseCeil(s string) (Ceil, error) {
	switch Ceil(s) {
	case "", CeilLink:
		return CeilLink, nil
	case CeilRate:
		return CeilRate, nil
	}
	return "", fmt.Errorf("parse egress ceil: %q is neither %q nor %q", s, CeilLink, CeilRate)
}

// params is what one HTB class is set to. Rates are bits/s.
type params struct {
	Rate, Ceil uint64
	Quantum    uint32
}

// minDefaultShare is the least of the link the default class is
// guaranteed, however much the frameworks reserve: the host's own traffic
// (the agent's, sshd's) must never stall behind tasks.
const minDefaultShare = 0.02

func bits(mbps float64) uint64 { return uint64(math.Round(mbps * 1e6)) }

func rootParams(link uint64) params {
	return params{Rate: link, Ceil: link, Quantum: quantum(link)}
}

func frameworkParams(rate, link uint64, ceil Ceil) params {
	p := params{Rate: rate, Ceil: link, Quantum: quantum(rate)}
	if ceil == CeilRate || rate > link {
		p.Ceil = rate
	}
	return p
}

// defaultParams guarantees the default class what the frameworks leave of
// the link (at least minDefaultShare of it); it may always borrow up to the
// link.
func defaultParams(link, committed uint64) params {
	rate := uint64(float64(link) * minDefaultShare)
	if committed < link && link-committed > rate {
		rate = link - committed
	}
	return params{Rate: rate, Ceil: link, Quantum: quantum(rate)}
}

// quantum is how many bytes a class may send per round when classes share
// what they borrow. It is proportional to the rate (50 ms of it), so spare
// bandwidth is split in proportion to the rates; HTB's default (rate/10,
// clamped to 200,000 bytes) makes every class above 16 Mbit/s equal. It
// must also exceed a GSO packet (64 KiB): a class sends at least one packet
// per round, so with smaller quanta classes get equal packets, not bytes in
// proportion. Classes under about 10 Mbit/s are below that and borrow a
// little more than their proportion; a larger quantum would make the shares
// coarser over short intervals (a round of all classes takes longer).
func quantum(rate uint64) uint32 {
	q := rate / 8 / 20
	return uint32(min(max(q, 1600), 1<<24))
}

// freeMinor returns the lowest framework minor not in used.
func freeMinor(used map[uint16]bool) (uint16, error) {
	for m := firstFrameworkMinor; m <= lastFrameworkMinor; m++ {
		if !used[uint16(m)] {
			return uint16(m), nil
		}
	}
	return 0, fmt.Errorf("allocate class: all %d framework classes in use", lastFrameworkMinor-firstFrameworkMinor+1)
}
