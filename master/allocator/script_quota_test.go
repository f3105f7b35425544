package allocator

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// quota runs "quota <role> [guarantee=cpus:4;mem:512] [limit=cpus:8]
// [force]"; neither option removes the role's quota.
func (h *harness) quota(g args) error {
	c := QuotaConfig{Role: g.pos[0]}
	var err error
	if c.Guarantees, err = quantities(g.opt("guarantee", "")); err != nil {
		return err
	}
	if c.Limits, err = quantities(g.opt("limit", "")); err != nil {
		return err
	}
	return h.a.UpdateQuota([]QuotaConfig{c}, g.has("force"))
}

// quantities reads "cpus:4;mem:0", keeping zeros (a limit of 0 is a limit).
func quantities(s string) (map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]float64{}
	for part := range strings.SplitSeq(s, ";") {
		name, v, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not name:value", part)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		out[name] = f
	}
	return out, nil
}

// operation builds a RESERVE or UNRESERVE of res. A RESERVE written
// "cpus(eng):2" makes a dynamic reservation, as RESERVE always does; an
// UNRESERVE names what it undoes as it is ("cpus(eng,dynamic):2").
func operation(cmd, res string) (Operation, error) {
	rs, err := resources.Parse(res)
	if err != nil {
		return Operation{}, err
	}
	if strings.HasPrefix(cmd, "unreserve") {
		return Operation{Type: Unreserve, Resources: rs}, nil
	}
	items := rs.Items()
	for i := range items {
		items[i].Dynamic = items[i].Role != resources.Unreserved
	}
	return Operation{Type: Reserve, Resources: resources.Must(items...)}, nil
}

// updateAllocation runs "reserve-offer <fw> <agent> <resources> [role=r]":
// the operation applies to the part of the holding it names.
func (h *harness) updateAllocation(cmd string, g args) (string, error) {
	op, err := operation(cmd, g.pos[2])
	if err != nil {
		return "", err
	}
	from, _, err := op.convert()
	if err != nil {
		return "", err
	}
	al := Allocation{Framework: ids.FrameworkID(g.pos[0]), Agent: ids.AgentID(g.pos[1]), Role: g.opt("role", ""), Resources: from}
	got, err := h.a.UpdateAllocation(al, []Operation{op})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("now held: %s\n", got), nil
}

// rescind lists every holding as an outstanding offer, asks which quota
// needs back, and recovers those as the master would.
func (h *harness) rescind() string {
	var offers []Allocation
	for _, id := range h.agentIDs() {
		st, _ := h.a.Agent(id)
		offers = append(offers, st.Holdings...)
	}
	picked := h.a.QuotaRescinds(offers)
	if len(picked) == 0 {
		return "nothing to rescind\n"
	}
	var b strings.Builder
	for _, al := range picked {
		fmt.Fprintf(&b, "rescind %s %s role=%s %s\n", al.Framework, al.Agent, al.Role, al.Resources)
		if err := h.a.Recover(al, nil, h.now); err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	return b.String()
}

func (h *harness) agentIDs() []ids.AgentID {
	var out []ids.AgentID
	for _, ag := range h.a.visitOrder() {
		out = append(out, ag.id)
	}
	return out
}
