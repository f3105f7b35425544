package master

import (
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/resources"
)

// roleMetrics adds the allocator's per-role keys under Mesos's names:
// allocator/mesos/roles/<role>/shares/dominant,
// allocator/mesos/offer_filters/roles/<role>/active and, for roles with
// quota, allocator/mesos/quota/roles/<role>/resources/<res>/guarantee,
// .../limit and .../consumed (Mesos 1.9+ names; consumed follows Mesos's
// rule, allocations plus reservations).
func roleMetrics(snap map[string]float64, roles []allocator.RoleStatus) {
	for _, r := range roles {
		snap["allocator/mesos/roles/"+r.Name+"/shares/dominant"] = r.Share
		snap["allocator/mesos/offer_filters/roles/"+r.Name+"/active"] = float64(r.Filters)
		if r.Quota == nil {
			continue
		}
		prefix := "allocator/mesos/quota/roles/" + r.Name + "/resources/"
		for name, v := range r.Quota.Guarantees {
			snap[prefix+name+"/guarantee"] = v
		}
		for name, v := range r.Quota.Limits {
			snap[prefix+name+"/limit"] = v
		}
		// Consumption of every resource the quota names, 0 included, so
		// that a dashboard sees the key before the role uses any of it.
		for name := range r.Quota.Guarantees {
			snap[prefix+name+"/consumed"] = r.Consumed.Scalar(name)
		}
		for name := range r.Quota.Limits {
			snap[prefix+name+"/consumed"] = r.Consumed.Scalar(name)
		}
		for e := range r.Consumed.All() {
			if e.Type == resources.Scalar {
				snap[prefix+e.Name+"/consumed"] = r.Consumed.Scalar(e.Name)
			}
		}
	}
}
