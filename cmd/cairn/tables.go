package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/internal/flags"
)

// masterFlag registers --master, shared by every CLI verb.
func masterFlag(fs *flags.Set, p *string) {
	fs.String(p, "master", "127.0.0.1:5050", "the master's host:port")
}

func runPS(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn ps", os.Stderr)
	var master string
	var all bool
	masterFlag(fs, &master)
	fs.Bool(&all, "all", false, "include completed tasks")
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("ps", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tasks, err := operator.New(master, nil).Tasks(ctx)
	if err != nil {
		return exitCode("ps", err)
	}
	list := append(append([]*mesospb.Task{}, tasks.GetPendingTasks()...), tasks.GetTasks()...)
	list = append(list, tasks.GetUnreachableTasks()...)
	if all {
		list = append(list, tasks.GetCompletedTasks()...)
	}
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].GetTaskId().GetValue() < list[j].GetTaskId().GetValue()
	})
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TASK\tSTATE\tFRAMEWORK\tAGENT\tCPUS\tMEM\tNAME")
	for _, t := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.GetTaskId().GetValue(), t.GetState(),
			t.GetFrameworkId().GetValue(), t.GetAgentId().GetValue(),
			fmtScalar(scalar(t.GetResources(), "cpus")), fmtMB(scalar(t.GetResources(), "mem")), t.GetName())
	}
	w.Flush()
	return 0
}

func runAgents(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn agents", os.Stderr)
	var master string
	masterFlag(fs, &master)
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("agents", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	agents, err := operator.New(master, nil).Agents(ctx)
	if err != nil {
		return exitCode("agents", err)
	}
	list := agents.GetAgents()
	sort.Slice(list, func(i, j int) bool {
		return list[i].GetAgentInfo().GetId().GetValue() < list[j].GetAgentInfo().GetId().GetValue()
	})
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tHOSTNAME\tACTIVE\tCPUS (USED/TOTAL)\tMEM (USED/TOTAL)\tDISK\tVERSION")
	for _, a := range list {
		total, used := a.GetTotalResources(), a.GetAllocatedResources()
		if len(total) == 0 {
			total = a.GetAgentInfo().GetResources()
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%s/%s\t%s/%s\t%s\t%s\n", a.GetAgentInfo().GetId().GetValue(),
			a.GetAgentInfo().GetHostname(), a.GetActive(),
			fmtScalar(scalar(used, "cpus")), fmtScalar(scalar(total, "cpus")),
			fmtMB(scalar(used, "mem")), fmtMB(scalar(total, "mem")), fmtMB(scalar(total, "disk")), a.GetVersion())
	}
	w.Flush()
	for _, r := range agents.GetRecoveredAgents() {
		fmt.Printf("recovered, not yet reregistered: %s (%s)\n", r.GetId().GetValue(), r.GetHostname())
	}
	return 0
}

// scalar sums the scalar resources of one name across roles.
func scalar(rs []*mesospb.Resource, name string) float64 {
	var sum float64
	for _, r := range rs {
		if r.GetName() == name && r.GetType() == mesospb.Value_SCALAR {
			sum += r.GetScalar().GetValue()
		}
	}
	return sum
}

func fmtScalar(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func fmtMB(mb float64) string {
	switch {
	case mb >= 1024*1024:
		return fmt.Sprintf("%.1fTB", mb/(1024*1024))
	case mb >= 1024:
		return fmt.Sprintf("%.1fGB", mb/1024)
	default:
		return fmtScalar(mb) + "MB"
	}
}
