package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/cairnhq/cairn/version"
)

type verb struct {
	summary string
	run     func(ctx context.Context, args []string) int
}

var verbs map[string]verb

func init() {
	verbs = map[string]verb{
		"master":   {"run a master (Mesos flags: --ip, --port, --work_dir, --quorum, ...)", runMaster},
		"agent":    {"run an agent (--master=host:port --work_dir=...)", runAgent},
		"dev":      {"run a master and an agent on 127.0.0.1 (5050/5051), work dir ./.cairn", runDev},
		"executor": {"the command executor (started by the agent inside a container)", runExecutor},
		"run":      {"run one task and follow it: cairn run [--cpus=0.1 --mem=32] -- CMD [ARGS...]", runTask},
		"ps":       {"list tasks", runPS},
		"agents":   {"list agents", runAgents},
		"roles":    {"list roles: weight, quota, allocated, offered, dominant share", runRoles},
		"top":      {"live per-task usage across the cluster (CPU, run-queue delay, memory, net)", runTop},
		"stats":    {"one task's usage history with sparklines: cairn stats TASK [--since 5m]", runStats},
		"version":  {"print the version", runVersion},
		"help":     {"show this help", func(context.Context, []string) int { usage(os.Stdout); return 0 }},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cairn <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, verbs[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag may also come from the environment as CAIRN_<FLAG> (e.g. CAIRN_WORK_DIR).")
}

func runVersion(context.Context, []string) int {
	fmt.Println(version.String())
	return 0
}

// exitCode turns a verb's error into an exit code, printing it.
func exitCode(name string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(os.Stderr, "cairn %s: %v\n", name, err)
	return 1
}

// exitError carries a specific exit code (e.g. a task's) out of a verb.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
