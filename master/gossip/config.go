package gossip

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/hashicorp/memberlist"
)

// MetaMaxSize is the most metadata a member may publish: memberlist's limit
// (the metadata rides in every alive message) less the one byte of flags
// this package puts in front (see meta.go).
const MetaMaxSize = memberlist.MetaMaxSize - envelopeSize

// Failure-detection tuning. The goal is a kill -9'd member reported as failed
// within about 3 s on a LAN (the foundation allows 10 s), while a member on a
// loaded 2-core machine that answers late is not declared dead.
//
// A failed member is reported after roughly
//
//	(wait until someone probes it: ≤ probeInterval)
//	+ (that probe: direct ack timeout, then indirect and TCP probes until the
//	  end of the interval: probeInterval)
//	+ (suspicion timeout: suspicionMult × max(1, log10 n) × probeInterval,
//	  stretched up to suspicionMaxTimeoutMult times that while fewer than
//	  suspicionMult-2 other members have confirmed the suspicion)
//	+ (gossip of the dead message: a few gossipIntervals).
//
// For n ≤ 10 that is 0.5 + 0.5 + 2 + ~0.2 s ≈ 3 s once peers confirm (they do
// within a round or two, because every member probes). With 100 members the
// suspicion floor is 4 s; with 1000, 6 s.
//
// False positives need a member to stay silent for the whole window: the
// direct ack has 250 ms (a LAN round trip is well under 1 ms, so this only
// absorbs scheduling and GC stalls), indirect probes through three peers and a
// TCP fallback get the rest of the 500 ms, and then the suspect still has 2 s
// to hear the suspicion by gossip and refute it. Lifeguard's awareness scales
// a member's own probe timeouts up to awarenessMaxMultiplier× when it notices
// it is the slow one, so an overloaded prober backs off instead of accusing.
const (
	// probeInterval is half of memberlist's LAN default (1 s): the dominant
	// term in detection time, and still only 2 probes/s per member, a cost
	// independent of cluster size.
	probeInterval = 500 * time.Millisecond
	// probeTimeout is the direct-ack deadline, half the interval so that
	// indirect probes still fit inside it (memberlist's LAN default is 500 ms
	// for a 1 s interval: the same ratio).
	probeTimeout = 250 * time.Millisecond
	// suspicionMult is memberlist's LAN default: 4 probe intervals of grace,
	// which also makes k = 2 independent confirmations drive the timer to its
	// floor.
	suspicionMult = 4
	// suspicionMaxTimeoutMult caps the unconfirmed suspicion at 4× the floor
	// (8 s for small clusters) instead of memberlist's 6×: a lone accuser is
	// still doubted, but not for half a minute.
	suspicionMaxTimeoutMult = 4
	// awarenessMaxMultiplier is memberlist's default.
	awarenessMaxMultiplier = 8
	// gossipInterval is memberlist's LAN default; dead messages piggyback
	// on it, so it bounds how fast a verdict spreads.
	gossipInterval = 200 * time.Millisecond
	// pushPullInterval halves memberlist's LAN default (30 s) so that state
	// missed by gossip (for example metadata while a member was suspect)
	// converges sooner; a full sync with one random peer is cheap on a LAN.
	pushPullInterval = 15 * time.Second
	// goneRetention is how long Members keeps reporting dead and left
	// members: memberlist's GossipToTheDeadTime, after which it forgets them
	// too.
	goneRetention = 30 * time.Second
	// reclaimAfter lets a member that was declared dead come back under the
	// same name from another address (a restarted agent on a new port) once
	// the verdict is this old; a live member's name is never taken over.
	reclaimAfter = 5 * time.Second
	// updateTimeout bounds how long SetMeta waits for its broadcast to be sent.
	updateTimeout = 2 * time.Second
)

// Config describes one gossip member.
type Config struct {
	// Name is the member's unique name in the pool: the agent's stable node
	// name, or "master-<id>" for a master.
	Name string
	// BindAddr is the IP to listen on; empty means 0.0.0.0.
	BindAddr string
	// BindPort is the UDP and TCP port to listen on. 0 picks an ephemeral
	// port; memberlist then binds UDP to the port the kernel gave TCP, so
	// the member has a single gossip port (see LocalAddr).
	BindPort int
	// AdvertiseAddr is the IP peers should use; empty means the bind IP, or a
	// private IP of this host when bound to 0.0.0.0.
	AdvertiseAddr string
	// AdvertisePort is the port peers should use; 0 means the bound port.
	// It needs a fixed BindPort.
	AdvertisePort int
	// Meta is this member's initial metadata (at most MetaMaxSize bytes),
	// normally a MarshalAvailability record.
	Meta []byte
	// Logger receives this package's logs and memberlist's own, the latter
	// at Debug. Nil discards them.
	Logger *slog.Logger
	// Events, if set, is called for every membership change, in order, from
	// one goroutine owned by the Gossip. See doc.go for the rules.
	Events func(Event)
}

func (c Config) validate() error {
	if c.Name == "" {
		return errors.New("member name is empty")
	}
	if len(c.Meta) > MetaMaxSize {
		return fmt.Errorf("metadata is %d bytes, limit %d", len(c.Meta), MetaMaxSize)
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		return fmt.Errorf("bind port %d out of range", c.BindPort)
	}
	if c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		return fmt.Errorf("advertise port %d out of range", c.AdvertisePort)
	}
	if c.AdvertisePort != 0 && c.BindPort == 0 {
		// memberlist replaces the advertised port with the ephemeral one.
		return fmt.Errorf("advertise port %d needs a fixed bind port", c.AdvertisePort)
	}
	if c.BindAddr != "" {
		if _, err := netip.ParseAddr(c.BindAddr); err != nil {
			return fmt.Errorf("parse bind address: %w", err)
		}
	}
	if c.AdvertiseAddr != "" {
		if _, err := netip.ParseAddr(c.AdvertiseAddr); err != nil {
			return fmt.Errorf("parse advertise address: %w", err)
		}
	}
	return nil
}

// memberlistConfig turns c into memberlist's configuration with Cairn's
// tuning; the delegates are wired by New.
func (c Config) memberlistConfig(logger *slog.Logger) *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	if mc.BindAddr == "" {
		mc.BindAddr = "0.0.0.0"
	}
	mc.BindPort = c.BindPort
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.AdvertisePort = c.AdvertisePort
	if mc.AdvertisePort == 0 {
		mc.AdvertisePort = c.BindPort
	}

	mc.ProbeInterval = probeInterval
	mc.ProbeTimeout = probeTimeout
	mc.SuspicionMult = suspicionMult
	mc.SuspicionMaxTimeoutMult = suspicionMaxTimeoutMult
	mc.AwarenessMaxMultiplier = awarenessMaxMultiplier
	mc.GossipInterval = gossipInterval
	mc.PushPullInterval = pushPullInterval
	mc.GossipToTheDeadTime = goneRetention
	mc.DeadNodeReclaimTime = reclaimAfter

	mc.LogOutput = nil
	mc.Logger = newMemberlistLogger(logger)
	return mc
}
