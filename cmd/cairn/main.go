// Command cairn is Cairn's single binary: the master, the agent, the command
// executor, a one-machine development cluster and the CLI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairnhq/cairn/containerizer"
)

func init() {
	// libcontainer re-executes this binary as the container's init.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		containerizer.Init()
	}
}

// drainSignals delivers SIGUSR1, Mesos's "kill every task, then stop" for
// an agent (SIGTERM stops it and leaves checkpointed tasks running).
var drainSignals = make(chan os.Signal, 1)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	signal.Notify(drainSignals, syscall.SIGUSR1)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one verb and returns the process exit code.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	verb, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "cairn: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	return verb.run(ctx, args[1:])
}
