package master

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Operator calls that change the allocation policy: weights, quota and
// reservations. Each validates, applies to the allocator (which refuses what
// it cannot do, changing nothing), then persists.

func conflict(format string, args ...any) error {
	return &api.HTTPError{Status: http.StatusConflict, Msg: fmt.Sprintf(format, args...)}
}

// restorePolicy hands the registry's weights and quotas to a new allocator.
// As in Mesos, weights in the registry (set by UPDATE_WEIGHTS) replace the
// --weights flag's (flagWeights, which the allocator started with) entirely.
func (c *core) restorePolicy(st *registry.State, flagWeights map[string]float64) {
	if len(st.GetWeights()) > 0 {
		w := map[string]float64{}
		for role := range flagWeights {
			w[role] = 1
		}
		for _, wi := range st.GetWeights() {
			w[wi.GetRole()] = wi.GetWeight()
		}
		if len(flagWeights) > 0 {
			c.log.Warn("ignoring --weights: weights recovered from the registry", "roles", len(st.GetWeights()))
		}
		c.allocErr("restore weights", c.alloc.UpdateWeights(w))
	}
	if len(st.GetQuotas()) > 0 {
		var cfgs []allocator.QuotaConfig
		for _, q := range st.GetQuotas() {
			cfgs = append(cfgs, quotaFromProto(q))
		}
		c.allocErr("restore quotas", c.alloc.UpdateQuota(cfgs, true))
	}
}

// UpdateWeights handles UPDATE_WEIGHTS.
func (c *core) UpdateWeights(infos []*mesospb.WeightInfo) error {
	w := map[string]float64{}
	for _, wi := range infos {
		role := wi.GetRole()
		if err := resources.ValidateRole(role); err != nil || role == "*" {
			return badRequest("Invalid role %q in 'update_weights.weight_infos'", role)
		}
		if v := wi.GetWeight(); !(v > 0) || math.IsInf(v, 0) {
			return badRequest("Invalid weight %v for role %q: weights must be positive", v, role)
		}
		if _, dup := w[role]; dup {
			return badRequest("Role %q appears more than once in 'update_weights.weight_infos'", role)
		}
		w[role] = wi.GetWeight()
	}
	if err := c.alloc.UpdateWeights(w); err != nil {
		return badRequest("Invalid weights: %v", err)
	}
	if err := c.reg.Apply(registry.SetWeights{Weights: w}); err != nil {
		return fmt.Errorf("persist weights: %w", err)
	}
	c.allocateSoon = true
	return nil
}

// Weights is GET_WEIGHTS: every role whose weight is not the default.
func (c *core) Weights() []*mesospb.WeightInfo {
	w := c.alloc.Weights()
	roles := make([]string, 0, len(w))
	for r := range w {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	out := make([]*mesospb.WeightInfo, 0, len(roles))
	for _, r := range roles {
		out = append(out, &mesospb.WeightInfo{Role: proto.String(r), Weight: proto.Float64(w[r])})
	}
	return out
}

func quotaFromProto(q *quotapb.QuotaConfig) allocator.QuotaConfig {
	cfg := allocator.QuotaConfig{Role: q.GetRole(), Guarantees: map[string]float64{}, Limits: map[string]float64{}}
	for k, v := range q.GetGuarantees() {
		cfg.Guarantees[k] = v.GetValue()
	}
	for k, v := range q.GetLimits() {
		cfg.Limits[k] = v.GetValue()
	}
	return cfg
}

func scalars(m map[string]float64) map[string]*mesospb.Value_Scalar {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*mesospb.Value_Scalar, len(m))
	for k, v := range m {
		out[k] = &mesospb.Value_Scalar{Value: proto.Float64(v)}
	}
	return out
}

func quotaToProto(q allocator.QuotaConfig) *quotapb.QuotaConfig {
	return &quotapb.QuotaConfig{Role: proto.String(q.Role), Guarantees: scalars(q.Guarantees), Limits: scalars(q.Limits)}
}

// checkQuota validates one config's shape (the allocator checks the rest).
func checkQuota(q *quotapb.QuotaConfig) error {
	if err := resources.ValidateRole(q.GetRole()); err != nil || q.GetRole() == "*" {
		return badRequest("Invalid quota config: invalid role %q", q.GetRole())
	}
	for what, m := range map[string]map[string]*mesospb.Value_Scalar{"guarantee": q.GetGuarantees(), "limit": q.GetLimits()} {
		for name, v := range m {
			if x := v.GetValue(); x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
				return badRequest("Invalid quota config for role %q: %s of %q is %v", q.GetRole(), what, name, x)
			}
		}
	}
	return nil
}

// UpdateQuota handles UPDATE_QUOTA (and SET_QUOTA/REMOVE_QUOTA through
// it): all configs or none; offers that would let a role pass its new
// limit, or eat into guaranteed headroom, are rescinded.
func (c *core) UpdateQuota(configs []*quotapb.QuotaConfig, force bool, now time.Time) error {
	seen := map[string]bool{}
	var cfgs []allocator.QuotaConfig
	for _, q := range configs {
		if err := checkQuota(q); err != nil {
			return err
		}
		if seen[q.GetRole()] {
			return badRequest("Invalid quota configs: role %q appears more than once", q.GetRole())
		}
		seen[q.GetRole()] = true
		cfgs = append(cfgs, quotaFromProto(q))
	}
	if err := c.alloc.UpdateQuota(cfgs, force); err != nil {
		return badRequest("Invalid quota configs: %v", err)
	}
	if err := c.reg.Apply(registry.SetQuotas{Configs: configs}); err != nil {
		return fmt.Errorf("persist quotas: %w", err)
	}
	var outstanding []allocator.Allocation
	byKey := map[string]*offer{}
	for _, o := range c.sortedOffers() {
		outstanding = append(outstanding, allocator.Allocation{Framework: o.fw, Agent: o.agent, Role: o.role, Resources: o.res})
		byKey[string(o.fw)+"\x00"+string(o.agent)+"\x00"+o.role] = o
	}
	for _, al := range c.alloc.QuotaRescinds(outstanding) {
		if o, ok := byKey[string(al.Framework)+"\x00"+string(al.Agent)+"\x00"+al.Role]; ok {
			c.removeOffer(o, true, true, now)
		}
	}
	c.allocateSoon = true
	return nil
}

// Quota is GET_QUOTA's status.
func (c *core) Quota() *quotapb.QuotaStatus {
	st := &quotapb.QuotaStatus{}
	for _, q := range c.alloc.Quotas() {
		st.Configs = append(st.Configs, quotaToProto(q))
		info := &quotapb.QuotaInfo{Role: proto.String(q.Role)}
		names := make([]string, 0, len(q.Guarantees))
		for n := range q.Guarantees {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			info.Guarantee = append(info.Guarantee, &mesospb.Resource{
				Name: proto.String(n), Type: mesospb.Value_SCALAR.Enum(),
				Scalar: &mesospb.Value_Scalar{Value: proto.Float64(q.Guarantees[n])},
			})
		}
		st.Infos = append(st.Infos, info)
	}
	return st
}

// SetQuota handles the deprecated SET_QUOTA: since Mesos 1.9 it sets both
// the guarantee and the limit to the request's guarantee.
func (c *core) SetQuota(req *quotapb.QuotaRequest, now time.Time) error {
	role := req.GetRole()
	for _, q := range c.alloc.Quotas() {
		if q.Role == role {
			return badRequest("Quota cannot be set for a role that already has quota")
		}
	}
	cfg := &quotapb.QuotaConfig{Role: proto.String(role), Guarantees: map[string]*mesospb.Value_Scalar{}}
	for _, r := range req.GetGuarantee() {
		if r.GetType() != mesospb.Value_SCALAR || r.Scalar == nil {
			return badRequest("Invalid quota request: resource %q is not a scalar", r.GetName())
		}
		if len(r.GetReservations()) > 0 || (r.Role != nil && r.GetRole() != "*") {
			return badRequest("Invalid quota request: resource %q is reserved", r.GetName())
		}
		cfg.Guarantees[r.GetName()] = &mesospb.Value_Scalar{Value: proto.Float64(cfg.Guarantees[r.GetName()].GetValue() + r.GetScalar().GetValue())}
	}
	if len(cfg.Guarantees) == 0 {
		return badRequest("Invalid quota request: empty guarantee")
	}
	cfg.Limits = cfg.Guarantees
	return c.UpdateQuota([]*quotapb.QuotaConfig{cfg}, req.GetForce(), now)
}

// RemoveQuota handles the deprecated REMOVE_QUOTA.
func (c *core) RemoveQuota(role string, now time.Time) error {
	for _, q := range c.alloc.Quotas() {
		if q.Role == role {
			return c.UpdateQuota([]*quotapb.QuotaConfig{{Role: proto.String(role)}}, true, now)
		}
	}
	return badRequest("Failed to remove quota: Role '%s' has no quota set", role)
}

// Reserve handles RESERVE_RESOURCES and UNRESERVE_RESOURCES: the agent's
// offers are rescinded (reservations apply to free resources), the
// allocator converts the resources, and the agent's new total is sent to the
// agent to checkpoint.
func (c *core) Reserve(agentID ids.AgentID, in []*mesospb.Resource, unreserve bool, now time.Time) error {
	a, ok := c.agents[agentID]
	if !ok {
		return badRequest("No agent found with specified ID")
	}
	res, err := resources.FromProto(in)
	if err != nil {
		return badRequest("Invalid resources: %v", err)
	}
	if res.IsEmpty() {
		return badRequest("Invalid resources: none given")
	}
	typ := allocator.Reserve
	if unreserve {
		typ = allocator.Unreserve
		if err := volumesStayBacked(a, res); err != nil {
			return conflict("Cannot unreserve on agent %s: %v", agentID, err)
		}
	}
	for _, o := range c.sortedOffers() {
		if o.agent == agentID {
			c.removeOffer(o, true, true, now)
		}
	}
	if err := c.alloc.UpdateAvailable(agentID, []allocator.Operation{{Type: typ, Resources: res}}); err != nil {
		c.allocateSoon = true
		return conflict("Cannot %s on agent %s: %v", strings.ToLower(typ.String()), agentID, err)
	}
	c.syncTotal(a)
	c.resourcesChanged(a)
	return nil
}

// sortedOffers lists outstanding offers in id order (deterministic).
func (c *core) sortedOffers() []*offer {
	out := make([]*offer, 0, len(c.offers))
	for _, o := range c.offers {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *offer) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}
