package master

import (
	"fmt"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/allocator"
	"google.golang.org/protobuf/proto"
)

// Allocate runs the allocator and turns its decisions into offers, one
// OFFERS event per framework.
func (c *core) Allocate(now time.Time) {
	c.allocateSoon = false
	byFramework := map[ids.FrameworkID][]*mesospb.Offer{}
	var order []ids.FrameworkID
	for _, al := range c.alloc.Allocate(now) {
		f, fok := c.frameworks[al.Framework]
		a, aok := c.agents[al.Agent]
		if !fok || !aok || f.stream == "" {
			// The allocator raced a removal we have not told it about yet;
			// give the resources straight back.
			c.recover(al.Framework, al.Agent, al.Role, al.Resources, nil, now)
			continue
		}
		o := c.makeOffer(f, a, al, now)
		if byFramework[f.id] == nil {
			order = append(order, f.id)
		}
		byFramework[f.id] = append(byFramework[f.id], o.pb)
	}
	for _, id := range order {
		c.send(c.frameworks[id], &schedulerpb.Event{
			Type:   schedulerpb.Event_OFFERS.Enum(),
			Offers: &schedulerpb.Event_Offers{Offers: byFramework[id]},
		})
	}
}

func (c *core) makeOffer(f *framework, a *agent, al allocator.Allocation, now time.Time) *offer {
	id := ids.OfferID(fmt.Sprintf("%s-O%d", c.masterID, c.nextOffer))
	c.nextOffer++
	allocRole := ""
	if f.multiRole() {
		allocRole = al.Role
	}
	pb := &mesospb.Offer{
		Id:          &mesospb.OfferID{Value: proto.String(string(id))},
		FrameworkId: frameworkIDpb(f.id),
		AgentId:     agentIDpb(a.id),
		Hostname:    proto.String(a.info.GetHostname()),
		Url:         agentURL(a),
		Resources:   toProto(al.Resources, allocRole),
		Attributes:  a.info.GetAttributes(),
	}
	if allocRole != "" {
		pb.AllocationInfo = &mesospb.Resource_AllocationInfo{Role: proto.String(allocRole)}
	}
	pb.Resources = c.offerVolumes(a, pb.Resources, allocRole)
	// Every executor of the framework running on the agent, command
	// executors (whose id is their task's) included.
	seenExec := map[string]bool{}
	for _, t := range f.tasks {
		if t.agent == a.id && !isTerminal(t.pb.GetState()) {
			seenExec[executorOf(t.pb)] = true
		}
	}
	for e := range f.executors[a.id] {
		seenExec[e] = true
	}
	execs := make([]string, 0, len(seenExec))
	for e := range seenExec {
		execs = append(execs, e)
	}
	slices.Sort(execs)
	for _, e := range execs {
		pb.ExecutorIds = append(pb.ExecutorIds, &mesospb.ExecutorID{Value: proto.String(e)})
	}
	o := &offer{pb: pb, id: id, fw: f.id, agent: a.id, role: al.Role, res: al.Resources}
	if c.offerTTL > 0 {
		o.expires = now.Add(c.offerTTL)
	}
	c.offers[id] = o
	f.offers[id] = true
	return o
}

func agentURL(a *agent) *mesospb.URL {
	ip := a.addr.Addr()
	return &mesospb.URL{
		Scheme: proto.String("http"),
		Address: &mesospb.Address{
			Hostname: proto.String(a.info.GetHostname()),
			Ip:       proto.String(ip.String()),
			Port:     proto.Int32(int32(a.addr.Port())),
		},
		Path: proto.String("/slave(1)"),
	}
}

// removeOffer forgets an offer, optionally telling the framework (RESCIND)
// and giving its resources back to the allocator.
func (c *core) removeOffer(o *offer, rescind, recover bool, now time.Time) {
	delete(c.offers, o.id)
	f := c.frameworks[o.fw]
	if f != nil {
		delete(f.offers, o.id)
		if rescind {
			c.send(f, &schedulerpb.Event{
				Type:    schedulerpb.Event_RESCIND.Enum(),
				Rescind: &schedulerpb.Event_Rescind{OfferId: o.pb.GetId()},
			})
		}
	}
	if recover {
		c.recover(o.fw, o.agent, o.role, o.res, nil, now)
	}
}

// removeOffersOf drops every outstanding offer of f and recovers it.
func (c *core) removeOffersOf(f *framework, rescind bool, now time.Time) {
	for id := range f.offers {
		if o, ok := c.offers[id]; ok {
			c.removeOffer(o, rescind, true, now)
		}
	}
}

// expireOffers rescinds offers older than --offer_timeout.
func (c *core) expireOffers(now time.Time) {
	for _, o := range c.offers {
		if !o.expires.IsZero() && !now.Before(o.expires) {
			c.removeOffer(o, true, true, now)
		}
	}
}

// refuseFilter is the allocator's form of a call's filters; the wire
// default (refuse_seconds 5) applies when they are absent, and the
// allocator applies Mesos's caps.
func refuseFilter(f *mesospb.Filters) *allocator.Filter {
	return &allocator.Filter{RefuseSeconds: f.GetRefuseSeconds()}
}

// Decline handles DECLINE: the offers' resources go back, refused for the
// filter's duration. Unknown offer ids are ignored, as in Mesos.
func (c *core) Decline(f *framework, offerIDs []*mesospb.OfferID, filters *mesospb.Filters, now time.Time) {
	for _, oid := range offerIDs {
		o, ok := c.offers[ids.OfferID(oid.GetValue())]
		if !ok || o.fw != f.id {
			continue
		}
		c.removeOffer(o, false, false, now)
		c.recover(f.id, o.agent, o.role, o.res, refuseFilter(filters), now)
	}
}
