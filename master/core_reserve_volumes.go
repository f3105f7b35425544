package master

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Persistent volumes (CREATE and DESTROY). A volume is reserved disk with
// disk.persistence{id} and disk.volume{container_path, mode}. The master
// keeps the agent's volumes in its AgentInfo resource listing (and so in
// the registry), the agent checkpoints them and creates their directories
// under work_dir/volumes/roles/<role>/<id>. The allocator is not told: a
// volume stays the reserved disk it was made of, offered to its role.

// isVolume reports whether r is a persistent volume.
func isVolume(r *mesospb.Resource) bool { return r.GetDisk().GetPersistence() != nil }

// volumesOf returns the persistent volumes of a resource listing.
func volumesOf(rs []*mesospb.Resource) []*mesospb.Resource {
	var out []*mesospb.Resource
	for _, r := range rs {
		if isVolume(r) {
			out = append(out, r)
		}
	}
	return out
}

// volumeKey names a volume on an agent: persistence ids are unique per
// role, as in Mesos.
func volumeKey(role, id string) string { return role + "\x00" + id }

func volumeRole(r *mesospb.Resource) string {
	res, err := fromProto([]*mesospb.Resource{r})
	if err != nil || res.IsEmpty() {
		return resources.Unreserved
	}
	return res.Items()[0].Role
}

// checkVolume applies Mesos's rules for a volume in a CREATE.
func checkVolume(f *framework, v *mesospb.Resource) error {
	d := v.GetDisk()
	id := d.GetPersistence().GetId()
	switch {
	case d.GetPersistence() == nil:
		return fmt.Errorf("Resource %s is not a persistent volume", v.GetName())
	case id == "":
		return fmt.Errorf("Persistent volume has an empty persistence id")
	case v.GetName() != "disk" || v.GetType() != mesospb.Value_SCALAR:
		return fmt.Errorf("Persistent volume %s must be a 'disk' scalar", id)
	case d.GetVolume() == nil:
		return fmt.Errorf("Expecting 'volume' to be set for persistent volume %s", id)
	case d.GetVolume().HostPath != nil:
		return fmt.Errorf("Expecting 'host_path' to be unset for persistent volume %s", id)
	case v.Shared != nil:
		return fmt.Errorf("Shared persistent volume %s is not supported", id)
	case d.Source != nil:
		return fmt.Errorf("Persistent volume %s: disk sources are not supported", id)
	}
	cp := d.GetVolume().GetContainerPath()
	if cp == "" || path.IsAbs(cp) || slices.Contains(strings.Split(cp, "/"), "..") {
		return fmt.Errorf("Persistent volume %s: 'container_path' %q must be a relative path inside the sandbox", id, cp)
	}
	if strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return fmt.Errorf("Persistent volume id %q is not a valid file name", id)
	}
	if fp, p := f.info.GetPrincipal(), d.GetPersistence().GetPrincipal(); fp != "" && p != "" && fp != p {
		return fmt.Errorf("Persistent volume %s has principal '%s', which does not match the framework's principal '%s'", id, p, fp)
	}
	return nil
}

// acceptCreate validates one CREATE and records its volumes on the agent.
func (c *core) acceptCreate(f *framework, a *agent, vols []*mesospb.Resource, available map[string]resources.Resources) error {
	if len(vols) == 0 {
		return fmt.Errorf("Invalid CREATE operation: no volumes specified")
	}
	existing := volumesOf(a.info.GetResources())
	used := map[string]bool{}
	for _, v := range existing {
		used[volumeKey(volumeRole(v), v.GetDisk().GetPersistence().GetId())] = true
	}
	for _, v := range vols {
		if err := checkVolume(f, v); err != nil {
			return err
		}
		role := volumeRole(v)
		if role == resources.Unreserved {
			return fmt.Errorf("Persistent volumes cannot be created from unreserved resources")
		}
		k := volumeKey(role, v.GetDisk().GetPersistence().GetId())
		if used[k] {
			return fmt.Errorf("Persistence ID '%s' is already in use", v.GetDisk().GetPersistence().GetId())
		}
		used[k] = true
	}
	role, err := opRole(f, vols)
	if err != nil {
		return err
	}
	res, err := fromProto(vols)
	if err != nil {
		return fmt.Errorf("Invalid CREATE operation: %v", err)
	}
	for r := range res.All() {
		if !resources.IsAllocatableTo(r.Role, role) {
			return fmt.Errorf("Invalid CREATE operation: disk reserved for %q is not allocated to %q", r.Role, role)
		}
	}
	if !available[role].Contains(res) {
		return fmt.Errorf("Invalid CREATE operation: %s does not contain %s", available[role], res)
	}
	// Offers do not tell volume disk from plain reserved disk, so check
	// that the agent's reserved disk holds every volume.
	old, _ := fromProto(existing)
	if !a.total.Contains(old.Add(res)) {
		return fmt.Errorf("Invalid CREATE operation: the reserved disk is already used by persistent volumes")
	}
	next := append([]*mesospb.Resource(nil), existing...)
	for _, v := range vols {
		v = proto.Clone(v).(*mesospb.Resource)
		v.AllocationInfo = nil
		next = append(next, v)
	}
	c.setVolumes(a, next)
	return nil
}

// acceptDestroy validates one DESTROY and forgets its volumes; their disk
// stays reserved.
func (c *core) acceptDestroy(f *framework, a *agent, vols []*mesospb.Resource, available map[string]resources.Resources) error {
	if len(vols) == 0 {
		return fmt.Errorf("Invalid DESTROY operation: no volumes specified")
	}
	role, err := opRole(f, vols)
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, v := range vols {
		if !isVolume(v) {
			return fmt.Errorf("Resource %s is not a persistent volume", v.GetName())
		}
		id := v.GetDisk().GetPersistence().GetId()
		k := volumeKey(volumeRole(v), id)
		found := false
		for _, e := range volumesOf(a.info.GetResources()) {
			if volumeKey(volumeRole(e), e.GetDisk().GetPersistence().GetId()) == k {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("Persistent volumes not found: %s", id)
		}
		if c.volumeInUse(a, id) {
			return fmt.Errorf("Persistent volumes in use: %s", id)
		}
		gone[k] = true
	}
	res, err := fromProto(vols)
	if err != nil {
		return fmt.Errorf("Invalid DESTROY operation: %v", err)
	}
	if !available[role].Contains(res) {
		return fmt.Errorf("Invalid DESTROY operation: %s does not contain %s", available[role], res)
	}
	var next []*mesospb.Resource
	for _, e := range volumesOf(a.info.GetResources()) {
		if !gone[volumeKey(volumeRole(e), e.GetDisk().GetPersistence().GetId())] {
			next = append(next, e)
		}
	}
	c.setVolumes(a, next)
	return nil
}

// volumeInUse reports whether a live task on the agent names the volume.
func (c *core) volumeInUse(a *agent, id string) bool {
	for _, f := range c.frameworks {
		for _, t := range f.tasks {
			if t.agent != a.id || isTerminal(t.pb.GetState()) {
				continue
			}
			for _, r := range t.pb.GetResources() {
				if r.GetDisk().GetPersistence().GetId() == id {
					return true
				}
			}
		}
	}
	return false
}

// offerVolumes shows the agent's free persistent volumes in an offer, as
// Mesos does: each takes its size out of the offered disk reserved for its
// role and appears whole, with its disk info, so the framework finds it by
// persistence id. A volume a live task names is not free; one whose disk
// the offer does not hold stays out.
func (c *core) offerVolumes(a *agent, offered []*mesospb.Resource, allocRole string) []*mesospb.Resource {
	vols := volumesOf(a.info.GetResources())
	if len(vols) == 0 {
		return offered
	}
	for _, v := range vols {
		if c.volumeInUse(a, v.GetDisk().GetPersistence().GetId()) {
			continue
		}
		size, err := resources.FixedFromFloat(v.GetScalar().GetValue())
		if err != nil {
			continue
		}
		for i, r := range offered {
			if r.GetName() != "disk" || r.Disk != nil || !sameReservation(r, v) {
				continue
			}
			have, err := resources.FixedFromFloat(r.GetScalar().GetValue())
			if err != nil || have < size {
				continue
			}
			if left := have - size; left > 0 {
				offered[i] = proto.Clone(r).(*mesospb.Resource)
				offered[i].Scalar.Value = proto.Float64(left.Float())
			} else {
				offered = append(offered[:i:i], offered[i+1:]...)
			}
			shown := proto.Clone(v).(*mesospb.Resource)
			if allocRole != "" {
				shown.AllocationInfo = &mesospb.Resource_AllocationInfo{Role: proto.String(allocRole)}
			}
			offered = append(offered, shown)
			break
		}
	}
	return offered
}

// sameReservation reports whether two resources are reserved alike (role
// and static or dynamic).
func sameReservation(a, b *mesospb.Resource) bool {
	ra, err1 := fromProto([]*mesospb.Resource{stripDisk(a)})
	rb, err2 := fromProto([]*mesospb.Resource{stripDisk(b)})
	if err1 != nil || err2 != nil || ra.IsEmpty() || rb.IsEmpty() {
		return false
	}
	x, y := ra.Items()[0], rb.Items()[0]
	return x.Role == y.Role && x.Dynamic == y.Dynamic
}

func stripDisk(r *mesospb.Resource) *mesospb.Resource {
	if r.Disk == nil {
		return r
	}
	c := proto.Clone(r).(*mesospb.Resource)
	c.Disk = nil
	return c
}
