package master

import (
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// An agent's checkpointed resources: its dynamic reservations and
// persistent volumes, which exist only because an operation made them
// (Mesos's "checkpointed resources"). The master is their authority. After
// every change it records the agent's resource listing in the registry
// (AgentInfo.resources, volumes with their disk info) and sends the agent a
// CheckpointResources, which the agent persists and applies to the total
// its --resources give. When an agent is (re-)admitted with checkpointed
// resources that differ from the master's record, the record wins — it is
// written before the agent hears of a change, so it is never older — and
// the agent is sent it again. Without a record (a new agent, or a registry
// that lost it) the agent's report is taken.

// listing is the AgentInfo resource list for total with vols: the volumes
// whole, the rest of total as plain entries.
func listing(total resources.Resources, vols []*mesospb.Resource) []*mesospb.Resource {
	volRes, _ := fromProto(vols)
	out := toProto(total.Subtract(volRes), "")
	for _, v := range vols {
		out = append(out, proto.Clone(v).(*mesospb.Resource))
	}
	return out
}

// setInfoResources replaces a's AgentInfo (never mutated in place: others
// may hold the old one) with one listing rs.
func setInfoResources(a *agent, rs []*mesospb.Resource) {
	info := proto.Clone(a.info).(*mesospb.AgentInfo)
	info.Resources = rs
	a.info = info
}

// syncTotal takes the agent's total from the allocator after it converted
// resources, keeping the volumes.
func (c *core) syncTotal(a *agent) {
	st, ok := c.alloc.Agent(a.id)
	if !ok {
		return
	}
	a.total = st.Info.Total
	setInfoResources(a, listing(a.total, volumesOf(a.info.GetResources())))
}

// setVolumes records the agent's persistent volumes.
func (c *core) setVolumes(a *agent, vols []*mesospb.Resource) {
	setInfoResources(a, listing(a.total, vols))
}

// checkpointedOf returns the checkpointed part of a resource listing:
// dynamically reserved entries and volumes.
func checkpointedOf(rs []*mesospb.Resource) []*mesospb.Resource {
	var out []*mesospb.Resource
	for _, r := range rs {
		if isVolume(r) || isDynamic(r) {
			out = append(out, r)
		}
	}
	return out
}

func isDynamic(r *mesospb.Resource) bool {
	res, err := fromProto([]*mesospb.Resource{r})
	return err == nil && !res.IsEmpty() && res.Items()[0].Dynamic
}

// resourcesChanged persists the agent's new resources in the registry and
// sends them to the agent to checkpoint. Operator RESERVE_RESOURCES and
// UNRESERVE_RESOURCES and ACCEPT's resource operations end here.
func (c *core) resourcesChanged(a *agent) {
	if err := c.reg.Apply(registry.AdmitAgent{Info: a.info, GossipAddress: a.gossipAddr, Admitted: a.registered}); err != nil {
		// The agent still checkpoints them; only a master failover
		// before its next re-registration would miss them.
		c.log.Error("persist agent resources", "agent_id", a.id, "err", err)
	}
	c.sendCheckpoint(a)
	c.allocateSoon = true
}

func (c *core) sendCheckpoint(a *agent) {
	c.toAgent(a, "checkpoint_resources", &internalpb.CheckpointResources{
		AgentId: agentIDpb(a.id), Resources: checkpointedOf(a.info.GetResources()),
	})
}

// registryReader is the registry's capability to show its state.
type registryReader interface{ State() *registry.State }

// recordedInfo is the master's last record of agent id: the live agent,
// else the registry's.
func (c *core) recordedInfo(id ids.AgentID) *mesospb.AgentInfo {
	if a, ok := c.agents[id]; ok {
		return a.info
	}
	if info, ok := c.recovered[id]; ok {
		return info
	}
	rr, ok := c.reg.(registryReader)
	if !ok {
		return nil
	}
	for _, ra := range rr.State().GetAgents() {
		if ra.GetInfo().GetId().GetValue() == string(id) {
			return ra.GetInfo()
		}
	}
	return nil
}

// reconcileCheckpointed applies the master's record of agent id's
// checkpointed resources to the info it reported (whose total is total),
// rewriting info.resources. It returns the total to admit and whether the
// agent must be sent its checkpointed resources again. A record that no
// longer fits the agent (its --resources shrank) yields to the report.
func (c *core) reconcileCheckpointed(id ids.AgentID, info *mesospb.AgentInfo, total resources.Resources) (resources.Resources, bool) {
	rec := c.recordedInfo(id)
	if rec == nil {
		return total, false
	}
	want := checkpointedOf(rec.GetResources())
	wantRes, err := fromProto(want)
	if err != nil {
		c.log.Warn("recorded agent resources are invalid; taking the agent's", "agent_id", id, "err", err)
		return total, false
	}
	haveRes, _ := fromProto(checkpointedOf(info.GetResources()))
	base := total.Subtract(haveRes).Add(haveRes.ToUnreserved())
	if !base.Contains(wantRes.ToUnreserved()) {
		c.log.Warn("agent resources no longer hold its reservations; taking the agent's",
			"agent_id", id, "reserved", wantRes.String(), "agent_total", total.String())
		return total, false
	}
	next := base.Subtract(wantRes.ToUnreserved()).Add(wantRes)
	vols := volumesOf(want)
	// An agent reports volumes only if its AgentInfo carries them; when
	// it does not, sending them again is harmless (the agent's
	// checkpointing is idempotent).
	resync := !haveRes.Equal(wantRes) || !sameVolumes(volumesOf(info.GetResources()), vols)
	info.Resources = listing(next, vols)
	if !haveRes.Equal(wantRes) {
		c.log.Info("agent reported other reservations than recorded; restoring the master's",
			"agent_id", id, "reported", haveRes.String(), "recorded", wantRes.String())
	}
	return next, resync
}

// sameVolumes compares two volume lists by role and persistence id.
func sameVolumes(a, b []*mesospb.Resource) bool {
	if len(a) != len(b) {
		return false
	}
	keys := map[string]bool{}
	for _, v := range a {
		keys[volumeKey(volumeRole(v), v.GetDisk().GetPersistence().GetId())] = true
	}
	for _, v := range b {
		if !keys[volumeKey(volumeRole(v), v.GetDisk().GetPersistence().GetId())] {
			return false
		}
	}
	return true
}
