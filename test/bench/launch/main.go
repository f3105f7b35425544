// Command launch measures how fast Cairn launches tasks: a framework
// written with the scheduler SDK launches N `true` command tasks as fast as
// offers allow and reports tasks per second and the latency from ACCEPT to
// TASK_RUNNING and to TASK_FINISHED. See test/bench/README.md.
//
//	go run ./test/bench/launch [--master=host:port] [--tasks=1000] [--cpus=0.01] [--mem=8] [--json]
//
// Without --master it runs its own master and agent in this process (root
// needed), on loopback with ephemeral ports, temporary work dirs and a unique
// cgroups root, all removed on exit. The same binary is then the agent's
// container init and command executor, as the cairn binary would be.
//
// I/O: HTTP to the master (and, in-process, everything a master and an agent
// do: containers, cgroups, gossip on loopback, work dirs under the temp dir).
// Threading: the framework's event handler records times under a mutex;
// acknowledgements are sent by a few worker goroutines so that they do not
// hold up the next event; main waits for all of them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/executor"
)

func init() {
	// libcontainer re-executes this binary as each container's init.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		containerizer.Init()
	}
}

type options struct {
	master     string
	tasks      int
	cpus, mem  float64
	json       bool
	timeout    time.Duration
	cpuProfile string
	logLevel   string
	runtimeDir string
	dir        string
	// maxInflight, when positive, bounds the tasks launched but not yet
	// terminal (a closed loop, like a load generator's connections).
	maxInflight int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The in-process agent starts this binary as the command executor.
	if len(os.Args) > 1 && os.Args[1] == "executor" {
		log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "executor")
		if err := executor.Run(ctx, os.Environ(), log); err != nil {
			fmt.Fprintf(os.Stderr, "executor: %v\n", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.master, "master", "", "host:port of a running master (default: run a master and an agent in this process)")
	flag.IntVar(&o.tasks, "tasks", 1000, "number of tasks to launch")
	flag.Float64Var(&o.cpus, "cpus", 0.01, "cpus per task")
	flag.Float64Var(&o.mem, "mem", 8, "mem per task, MB")
	flag.IntVar(&o.maxInflight, "max_inflight", 0, "at most this many tasks launched and not yet terminal (0: pack every offer full)")
	flag.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (with the in-process master and agent) to this file")
	flag.StringVar(&o.logLevel, "log_level", "warn", "log level of the in-process master and agent: debug, info, warn, error")
	flag.StringVar(&o.runtimeDir, "runtime_dir", "", "parent directory for the in-process agent's --runtime_dir (default: inside its temporary work dir); e.g. /dev/shm to keep container state on a tmpfs")
	flag.StringVar(&o.dir, "dir", "", "parent directory of the in-process daemons' temporary work dirs (default: $TMPDIR or /tmp)")
	flag.Parse()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.tasks <= 0 || o.cpus < 0 || o.mem < 0 || o.cpus+o.mem == 0 {
		return fmt.Errorf("need --tasks > 0 and some --cpus or --mem")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log_level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("create cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	master := o.master
	if master == "" {
		c, err := startCluster(ctx, o.dir, o.runtimeDir, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := c.stop(); err != nil {
				fmt.Fprintf(os.Stderr, "launch: clean up: %v\n", err)
			}
		}()
		master = c.masterAddr
	}

	res, err := benchmark(ctx, master, o, log)
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	res.print(os.Stdout)
	return nil
}
