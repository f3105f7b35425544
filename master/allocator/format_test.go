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
	return fmt.Sprintf("runs=%d agents=%d/%d frameworks=%d/%d filters=%d\ntotal=%s\nallocated=%s\n",
		s.AllocationRuns, s.ActiveAgents, s.Agents, s.ActiveFrameworks, s.Frameworks, s.Filters, s.Total, s.Allocated)
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
		fmt.Fprintf(&b, "%s share=%.4f allocated=%s frameworks=%s filters=%d\n",
			r.Name, r.Share, r.Allocated, strings.Join(fws, ","), r.Filters)
	}
	if b.Len() == 0 {
		return "no roles\n"
	}
	return b.String()
}
