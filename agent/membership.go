package agent

import (
	"context"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/gossip"
	"github.com/cairnhq/cairn/resources"
)

// Seed fetching backs off from 1 s to 10 s while the master does not answer.
const (
	seedRetryMin = time.Second
	seedRetryMax = 10 * time.Second
)

// nodeName is the agent's gossip name: "agent@<ip>:<http port>".
func (a *Agent) nodeName() string { return "agent@" + a.endpoint() }

func (a *Agent) startGossip(st *state) (*gossip.Gossip, error) {
	meta, err := gossip.MarshalAvailability(a.availability(st, uint64(time.Now().UnixMilli())))
	if err != nil {
		return nil, err
	}
	bind := a.cfg.IP
	if bind == "0.0.0.0" {
		bind = ""
	}
	return gossip.New(gossip.Config{
		Name:          a.nodeName(),
		BindAddr:      bind,
		BindPort:      a.cfg.GossipPort,
		AdvertiseAddr: a.ip,
		Meta:          meta,
		Logger:        a.log,
	})
}

// availability is the agent's gossip record. It carries the agent id only
// once this process was admitted: a restarted agent (with its id on disk)
// that the master still counts as alive is seen to have forgotten its
// session, and re-admitted, which reconciles its tasks. Measured is what the
// agent's containers used over the last sampling interval (CPU and network
// rates, memory charged); the sampler asks for a new record when it moves
// materially (measuredChanged), at most every few seconds.
func (a *Agent) availability(st *state, seq uint64) gossip.Availability {
	free := a.total.Subtract(st.allocated())
	var id ids.AgentID
	if st.registered {
		id = st.agentID
	}
	measured := a.usage.measured()
	a.usage.notePublished(measured, time.Now())
	return gossip.Availability{
		Role:     gossip.RoleAgent,
		AgentID:  id,
		HTTPPort: a.addr.Port(),
		Hostname: a.cfg.Hostname,
		Seq:      seq,
		Total:    gossipResources(a.total),
		Free:     gossipResources(free),
		Measured: measured,
	}
}

func gossipResources(r resources.Resources) gossip.Resources {
	nonneg := func(v float64) uint64 { return uint64(max(0, v)) }
	return gossip.Resources{
		CPUsMilli:     nonneg(float64(r.Quantity("cpus"))),
		MemMB:         nonneg(r.Scalar("mem")),
		DiskMB:        nonneg(r.Scalar("disk")),
		BandwidthMbps: nonneg(r.Scalar("network_bandwidth")),
		GPUs:          nonneg(r.Scalar("gpus")),
	}
}

// availabilityChanged asks the publisher to republish (debounced).
func (a *Agent) availabilityChanged() {
	select {
	case a.publish <- struct{}{}:
	default:
	}
}

// publisher republishes the availability record after changes, at most once
// per debounce interval; SetMeta may block for a while, so it never runs on
// the loop.
func (a *Agent) publisher(ctx context.Context, g *gossip.Gossip) {
	seq := uint64(time.Now().UnixMilli())
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.publish:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.AvailabilityDebounce):
		}
		seq = max(seq+1, uint64(time.Now().UnixMilli()))
		var av gossip.Availability
		if err := a.do(ctx, func(st *state) { av = a.availability(st, seq) }); err != nil {
			return
		}
		meta, err := gossip.MarshalAvailability(av)
		if err == nil {
			err = g.SetMeta(meta)
		}
		if err != nil {
			a.log.Warn("publish availability", "err", err)
		}
	}
}

// membership joins the gossip pool through the master's seeds, and joins
// again whenever the master is no longer among the live members (a master
// restart, a partition that healed).
func (a *Agent) membership(ctx context.Context, g *gossip.Gossip) {
	wait := seedRetryMin
	for ctx.Err() == nil {
		var seeds internalpb.GossipSeeds
		err := endpoint.Get(ctx, a.client, "http://"+a.cfg.Master+"/internal/v1/gossip", &seeds)
		if err == nil {
			_, err = g.Join(seeds.GetAddresses())
		}
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("join the master's gossip pool; will retry", "master", a.cfg.Master, "retry_in", wait, "err", err)
			}
			if !sleep(ctx, wait) {
				return
			}
			wait = min(2*wait, seedRetryMax)
			continue
		}
		wait = seedRetryMin
		a.log.Info("joined gossip", "seeds", seeds.GetAddresses())
		for sleep(ctx, a.cfg.MasterCheckInterval) {
			if !masterAlive(g.Members()) {
				a.log.Warn("master left the gossip pool; joining again", "master", a.cfg.Master)
				break
			}
			if !a.admitted.Load() {
				// Not admitted yet: a fresh record makes the master look
				// again (it ignores a restarted agent's first record for
				// a few seconds after the previous admission).
				a.availabilityChanged()
			}
		}
	}
}

// masterAlive reports whether a live member is a master, by its record or,
// failing that, by its name.
func masterAlive(members []gossip.Member) bool {
	for _, m := range members {
		if m.State != gossip.Alive {
			continue
		}
		if av, err := gossip.UnmarshalAvailability(m.Meta); err == nil {
			if av.Role == gossip.RoleMaster {
				return true
			}
			continue
		}
		if strings.HasPrefix(m.Name, "master") {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
