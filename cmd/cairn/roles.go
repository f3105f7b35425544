package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/api/quotapb"
	"github.com/cairnhq/cairn/internal/flags"
)

// roleView is what `cairn roles` gathers from the operator API: GET_ROLES
// for weights and holdings, GET_QUOTA, GET_FRAMEWORKS for the outstanding
// offers, and GET_METRICS for dominant shares (the allocator's figure, which
// the Role message does not carry).
type roleView struct {
	roles      []*mesospb.Role
	quotas     []*quotapb.QuotaConfig
	frameworks []*masterpb.Response_GetFrameworks_Framework
	metrics    []*mesospb.Metric
}

func runRoles(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn roles", os.Stderr)
	var master string
	masterFlag(fs, &master)
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("roles", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := fetchRoles(ctx, operator.New(master, nil))
	if err != nil {
		return exitCode("roles", err)
	}
	printRoles(os.Stdout, v)
	return 0
}

func fetchRoles(ctx context.Context, c *operator.Client) (roleView, error) {
	var v roleView
	roles, err := c.Roles(ctx)
	if err != nil {
		return v, err
	}
	v.roles = roles.GetRoles()
	q, err := c.Call(ctx, &masterpb.Call{Type: masterpb.Call_GET_QUOTA.Enum()})
	if err != nil {
		return v, err
	}
	v.quotas = q.GetGetQuota().GetStatus().GetConfigs()
	fws, err := c.Frameworks(ctx)
	if err != nil {
		return v, err
	}
	v.frameworks = fws.GetFrameworks()
	m, err := c.Call(ctx, &masterpb.Call{Type: masterpb.Call_GET_METRICS.Enum(), GetMetrics: &masterpb.Call_GetMetrics{}})
	if err != nil {
		return v, err
	}
	v.metrics = m.GetGetMetrics().GetMetrics()
	return v, nil
}

// printRoles writes one row per role known to GET_ROLES or GET_QUOTA, by
// name. ALLOCATED is what the role's subtree holds, offers included, as
// the allocator counts it; OFFERED the master's outstanding offers to
// exactly this role; SHARE the unweighted dominant share.
func printRoles(out io.Writer, v roleView) {
	type row struct {
		role     *mesospb.Role
		quota    *quotapb.QuotaConfig
		offered  []*mesospb.Resource
		share    float64
		hasShare bool
	}
	rows := map[string]*row{}
	get := func(name string) *row {
		if rows[name] == nil {
			rows[name] = &row{}
		}
		return rows[name]
	}
	for _, r := range v.roles {
		get(r.GetName()).role = r
	}
	for _, q := range v.quotas {
		get(q.GetRole()).quota = q
	}
	for _, f := range v.frameworks {
		for _, o := range f.GetOffers() {
			role := o.GetAllocationInfo().GetRole()
			if role == "" {
				role = f.GetFrameworkInfo().GetRole()
			}
			if role == "" {
				role = "*"
			}
			r := get(role)
			r.offered = append(r.offered, o.GetResources()...)
		}
	}
	const prefix, suffix = "allocator/mesos/roles/", "/shares/dominant"
	for _, m := range v.metrics {
		name, ok := strings.CutPrefix(m.GetName(), prefix)
		if name, ok2 := strings.CutSuffix(name, suffix); ok && ok2 {
			r := get(name)
			r.share, r.hasShare = m.GetValue(), true
		}
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	slices.Sort(names)

	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ROLE\tWEIGHT\tGUARANTEE\tLIMIT\tALLOCATED\tOFFERED\tSHARE\tFRAMEWORKS")
	for _, n := range names {
		r := rows[n]
		weight := "1"
		if r.role != nil {
			weight = fmtScalar(r.role.GetWeight())
		}
		share := "-"
		if r.hasShare {
			share = fmt.Sprintf("%.3f", r.share)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", n, weight,
			fmtQuota(r.quota.GetGuarantees()), fmtQuota(r.quota.GetLimits()),
			fmtResources(r.role.GetResources()), fmtResources(r.offered), share, len(r.role.GetFrameworks()))
	}
	w.Flush()
}

// fmtQuota prints a quota's scalars as "cpus:2;mem:1024", sorted, or "-".
func fmtQuota(q map[string]*mesospb.Value_Scalar) string {
	if len(q) == 0 {
		return "-"
	}
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ":" + fmtScalar(q[n].GetValue())
	}
	return strings.Join(parts, ";")
}

// fmtResources prints the cpus and mem of rs ("2 cpus, 1.0GB"), or "-".
func fmtResources(rs []*mesospb.Resource) string {
	cpus, mem := scalar(rs, "cpus"), scalar(rs, "mem")
	if cpus == 0 && mem == 0 {
		return "-"
	}
	return fmtScalar(cpus) + " cpus, " + fmtMB(mem)
}
