package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/cmd/cairn/internal/taskstat"
	"github.com/cairnhq/cairn/internal/flags"
)

// statsOptions are cairn stats's flags.
type statsOptions struct {
	master    string
	since     time.Duration
	framework string
	json      bool
	width     int
}

func runStats(ctx context.Context, args []string) int {
	var o statsOptions
	task, err := parseOneArg(newStatsFlags(&o), args)
	if err != nil {
		return exitCode("stats", err)
	}
	if o.since <= 0 || o.width <= 0 {
		return exitCode("stats", errors.New("--since and --width must be positive"))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 10 * time.Second}
	return exitCode("stats", showStats(ctx, operator.New(o.master, hc), hc, task, o, os.Stdout))
}

func newStatsFlags(o *statsOptions) *flags.Set {
	fs := flags.NewSet("cairn stats", os.Stderr)
	masterFlag(fs, &o.master)
	fs.Duration(&o.since, "since", 5*time.Minute, "how far back (the agent keeps 15 minutes)")
	fs.String(&o.framework, "framework", "", "the task's framework (id or name, or the beginning of one) when task ids clash")
	fs.Bool(&o.json, "json", false, "print JSON instead of lines")
	fs.Int(&o.width, "width", 60, "sparkline width, in cells")
	return fs
}

// parseOneArg parses flags on either side of exactly one positional
// argument (`cairn stats TASK --since 5m` as well as `--since 5m TASK`).
func parseOneArg(fs *flags.Set, args []string) (string, error) {
	rest, err := fs.Parse(args)
	if err != nil {
		return "", err
	}
	if len(rest) == 0 {
		return "", errors.New("which task? cairn stats TASK [--since 5m]")
	}
	arg := rest[0]
	if rest, err = fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("unexpected arguments %q", rest)
	}
	return arg, nil
}

// located is where a task runs.
type located struct {
	task          *mesospb.Task
	frameworkName string
	agent         taskstat.Agent
}

// locateTask finds a live task by id through the master: GET_TASKS for its
// framework and agent, GET_AGENTS for the agent's address.
func locateTask(ctx context.Context, oc *operator.Client, id, framework string) (located, error) {
	var l located
	tasks, err := oc.Tasks(ctx)
	if err != nil {
		return l, fmt.Errorf("get tasks: %w", err)
	}
	v, err := fetchCluster(ctx, oc)
	if err != nil {
		return l, err
	}
	var found []*mesospb.Task
	for _, t := range append(tasks.GetTasks(), tasks.GetUnreachableTasks()...) {
		fid := t.GetFrameworkId().GetValue()
		if t.GetTaskId().GetValue() == id && (framework == "" ||
			strings.HasPrefix(fid, framework) || strings.HasPrefix(v.names[fid], framework)) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		if framework != "" {
			return l, fmt.Errorf("no running task %q in a framework %q", id, framework)
		}
		return l, fmt.Errorf("no running task %q", id)
	case 1:
	default:
		var fws []string
		for _, t := range found {
			fws = append(fws, t.GetFrameworkId().GetValue())
		}
		return l, fmt.Errorf("task %q runs in %d frameworks (%s): choose one with --framework", id, len(found), strings.Join(fws, ", "))
	}
	l.task = found[0]
	l.frameworkName = v.names[l.task.GetFrameworkId().GetValue()]
	for _, a := range v.agents {
		if a.ID == l.task.GetAgentId().GetValue() {
			l.agent = a
			return l, nil
		}
	}
	return l, fmt.Errorf("task %q is on agent %s, which the master does not list", id, l.task.GetAgentId().GetValue())
}

func showStats(ctx context.Context, oc *operator.Client, hc *http.Client, id string, o statsOptions, out io.Writer) error {
	l, err := locateTask(ctx, oc, id, o.framework)
	if err != nil {
		return err
	}
	q := url.Values{"task_id": {id}, "since": {strconv.FormatInt(int64(o.since.Seconds()+0.5), 10) + "s"}}
	body, err := agentGet(ctx, hc, l.agent.Addr, "/monitor/history?"+q.Encode())
	if err != nil {
		return fmt.Errorf("agent %s (%s): %w", l.agent.ID, l.agent.Addr, err)
	}
	h, err := taskstat.ParseHistory(body)
	if err != nil {
		return fmt.Errorf("agent %s: %w", l.agent.ID, err)
	}
	series := taskstat.SeriesOf(h.Samples)
	if o.json {
		return writeStatsJSON(out, l, h, series)
	}
	span := time.Duration(0)
	if n := len(h.Samples); n > 1 {
		span = h.Samples[n-1].At.Sub(h.Samples[0].At).Round(time.Second)
	}
	fw := l.task.GetFrameworkId().GetValue()
	if l.frameworkName != "" {
		fw = l.frameworkName + " (" + fw + ")"
	}
	fmt.Fprintf(out, "task %s of %s on agent %s (%s), container %s: %d samples over %v\n",
		id, fw, l.agent.Hostname, l.agent.ID, h.ContainerID, len(h.Samples), span)
	return taskstat.SeriesTable(out, series, o.width)
}

func writeStatsJSON(out io.Writer, l located, h taskstat.History, series []taskstat.Series) error {
	var first, last *float64
	if n := len(h.Samples); n > 0 {
		f, e := float64(h.Samples[0].At.UnixNano())/1e9, float64(h.Samples[n-1].At.UnixNano())/1e9
		first, last = &f, &e
	}
	b, err := json.MarshalIndent(struct {
		TaskID        string            `json:"task_id"`
		FrameworkID   string            `json:"framework_id"`
		FrameworkName string            `json:"framework_name"`
		AgentID       string            `json:"agent_id"`
		AgentHostname string            `json:"agent_hostname"`
		ExecutorID    string            `json:"executor_id"`
		ContainerID   string            `json:"container_id"`
		Samples       int               `json:"samples"`
		First         *float64          `json:"first_timestamp"`
		Last          *float64          `json:"last_timestamp"`
		Metrics       []taskstat.Series `json:"metrics"`
	}{l.task.GetTaskId().GetValue(), l.task.GetFrameworkId().GetValue(), l.frameworkName, l.agent.ID, l.agent.Hostname,
		h.ExecutorID, h.ContainerID, len(h.Samples), first, last, series}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}
