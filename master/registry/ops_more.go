package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// MarkAgentGone records that an operator declared the agent gone for good:
// it is forgotten as an admitted agent and never admitted again.
// Idempotent.
type MarkAgentGone struct {
	ID   ids.AgentID
	When time.Time
}

func (o MarkAgentGone) apply(st *State) error {
	if o.ID == "" {
		return errors.New("mark agent gone: agent id is empty")
	}
	if i := agentIndex(st, o.ID); i >= 0 {
		st.Agents = append(st.Agents[:i], st.Agents[i+1:]...)
	}
	for _, g := range st.GoneAgents {
		if g.GetId().GetValue() == string(o.ID) {
			return nil
		}
	}
	st.GoneAgents = append(st.GoneAgents, &GoneAgent{
		Id:     &mesospb.AgentID{Value: proto.String(string(o.ID))},
		GoneNs: proto.Int64(o.When.UnixNano()),
	})
	return nil
}

// IsGone reports whether the agent was marked gone.
func (s *State) IsGone(id ids.AgentID) bool {
	for _, g := range s.GetGoneAgents() {
		if g.GetId().GetValue() == string(id) {
			return true
		}
	}
	return false
}

// SetWeights records role weights; weight 1 removes a role's entry (it is
// the default). Other roles keep theirs.
type SetWeights struct{ Weights map[string]float64 }

func (o SetWeights) apply(st *State) error {
	for role, w := range o.Weights {
		if !(w > 0) {
			return fmt.Errorf("set weights: role %q weight %v is not positive", role, w)
		}
		st.Weights = slices.DeleteFunc(st.Weights, func(wi *mesospb.WeightInfo) bool { return wi.GetRole() == role })
		if w != 1 {
			st.Weights = append(st.Weights, &mesospb.WeightInfo{Role: proto.String(role), Weight: proto.Float64(w)})
		}
	}
	slices.SortFunc(st.Weights, func(a, b *mesospb.WeightInfo) int { return strings.Compare(a.GetRole(), b.GetRole()) })
	return nil
}

// SetQuotas records role quotas; a config without guarantees and limits
// removes the role's quota.
type SetQuotas struct{ Configs []*quotapb.QuotaConfig }

func (o SetQuotas) apply(st *State) error {
	for _, c := range o.Configs {
		if c.GetRole() == "" {
			return errors.New("set quotas: a config has no role")
		}
		st.Quotas = slices.DeleteFunc(st.Quotas, func(q *quotapb.QuotaConfig) bool { return q.GetRole() == c.GetRole() })
		if len(c.GetGuarantees()) > 0 || len(c.GetLimits()) > 0 {
			st.Quotas = append(st.Quotas, proto.Clone(c).(*quotapb.QuotaConfig))
		}
	}
	slices.SortFunc(st.Quotas, func(a, b *quotapb.QuotaConfig) int { return strings.Compare(a.GetRole(), b.GetRole()) })
	return nil
}
