package allocator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cairnhq/cairn/ids"
)

// The formats below are what the golden scripts compare; keep them terse and
// stable (sorted, fixed precision).

func formatAllocations(als []Allocation) string {
	if len(als) == 0 {
		return "no offers\n"
	}
	var b strings.Builder
	for _, al := range als {
		fmt.Fprintf(&b, "%s %s role=%s %s\n", al.Framework, al.Agent, al.Role, al.Resources)
	}
	return b.String()
}

func formatStats(a *Allocator) string {
	s := a.Stats()
	return fmt.Sprintf("runs=%d offers=%d agents=%d/%d frameworks=%d/%d filters=%d\ntotal=%s\nallocated=%s\n",
		s.AllocationRuns, s.OffersMade, s.ActiveAgents, s.Agents, s.ActiveFrameworks, s.Frameworks, s.Filters, s.Total, s.Allocated)
}

func formatAgent(a *Allocator, id ids.AgentID) string {
	st, ok := a.Agent(id)
	if !ok {
		return "unknown agent\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "active=%v total=%s free=%s\n", st.Active, st.Info.Total, st.Free)
	for _, h := range st.Holdings {
		fmt.Fprintf(&b, "  %s role=%s %s\n", h.Framework, h.Role, h.Resources)
	}
	return b.String()
}

func formatFramework(a *Allocator, id ids.FrameworkID) string {
	st, ok := a.Framework(id)
	if !ok {
		return "unknown framework\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "active=%v roles=%s suppressed=%s filters=%d\n",
		st.Active, strings.Join(st.Roles, ","), strings.Join(st.Suppressed, ","), st.Filters)
	for _, role := range slices.Sorted(maps.Keys(st.Shares)) {
		fmt.Fprintf(&b, "  role=%s share=%.4f allocated=%s\n", role, st.Shares[role], st.Allocated[role])
	}
	return b.String()
}

func formatRoles(a *Allocator) string {
	var b strings.Builder
	for _, r := range a.Roles() {
		fws := make([]string, len(r.Frameworks))
		for i, f := range r.Frameworks {
			fws[i] = string(f)
		}
		fmt.Fprintf(&b, "%s share=%.4f allocated=%s frameworks=%s filters=%d", r.Name, r.Share, r.Allocated, strings.Join(fws, ","), r.Filters)
		if r.Weight != 1 {
			fmt.Fprintf(&b, " weight=%v", r.Weight)
		}
		if !r.Reserved.IsEmpty() {
			fmt.Fprintf(&b, " reserved=%s", r.Reserved)
		}
		if r.Quota != nil {
			fmt.Fprintf(&b, " guarantee=%s limit=%s consumed=%s", formatQuantities(r.Quota.Guarantees), formatQuantities(r.Quota.Limits), r.Consumed)
		}
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		return "no roles\n"
	}
	return b.String()
}

func formatQuantities(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%v", name, m[name]))
	}
	return strings.Join(parts, ";")
}

func formatWeights(w map[string]float64) string {
	if len(w) == 0 {
		return "no weights\n"
	}
	var b strings.Builder
	for _, role := range slices.Sorted(maps.Keys(w)) {
		fmt.Fprintf(&b, "%s=%v\n", role, w[role])
	}
	return b.String()
}

func formatQuotas(qs []QuotaConfig) string {
	if len(qs) == 0 {
		return "no quotas\n"
	}
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%s guarantee=%s limit=%s\n", q.Role, formatQuantities(q.Guarantees), formatQuantities(q.Limits))
	}
	return b.String()
}
