package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cairnhq/cairn/agent"
	"github.com/cairnhq/cairn/executor"
	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/internal/systemd"
	"github.com/cairnhq/cairn/master"
)

// logFlags are shared by every daemon verb.
type logFlags struct {
	level        string
	format       string
	defaultLevel string // INFO when empty
	// levelVar is the logger's level; the operator API's SET_LOGGING_LEVEL
	// changes it at run time.
	levelVar slog.LevelVar
}

func (l *logFlags) register(fs *flags.Set) {
	def := l.defaultLevel
	if def == "" {
		def = "INFO"
	}
	fs.String(&l.level, "logging_level", def, "log level: DEBUG, INFO, WARNING or ERROR (Mesos names)")
	fs.String(&l.format, "log_format", "text", "log format: text or json")
}

func (l *logFlags) logger(component string) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToUpper(l.level) {
	case "DEBUG", "VERBOSE":
		lvl = slog.LevelDebug
	case "INFO":
		lvl = slog.LevelInfo
	case "WARNING", "WARN":
		lvl = slog.LevelWarn
	case "ERROR":
		lvl = slog.LevelError
	default:
		return nil, fmt.Errorf("--logging_level=%q: want DEBUG, INFO, WARNING or ERROR", l.level)
	}
	l.levelVar.Set(lvl)
	opts := &slog.HandlerOptions{Level: &l.levelVar}
	// Under systemd with journald, structured fields go to the journal.
	if jh, ok := systemd.Journal(opts); ok && l.format == "text" {
		return slog.New(jh).With("component", component), nil
	}
	var h slog.Handler
	switch l.format {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return nil, fmt.Errorf("--log_format=%q: want text or json", l.format)
	}
	return slog.New(h).With("component", component), nil
}

func runMaster(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn master", os.Stderr)
	var cfg master.Config
	cfg.RegisterFlags(fs)
	var lf logFlags
	lf.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("master", err)
	}
	log, err := lf.logger("master")
	if err != nil {
		return exitCode("master", err)
	}
	cfg.LogLevel = &lf.levelVar
	m, err := master.New(cfg, log)
	if err != nil {
		return exitCode("master", err)
	}
	return exitCode("master", systemd.NewNotifier(log).Supervise(ctx, m.Ready(), m.Run))
}

func runAgent(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn agent", os.Stderr)
	var cfg agent.Config
	cfg.RegisterFlags(fs)
	var lf logFlags
	lf.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("agent", err)
	}
	log, err := lf.logger("agent")
	if err != nil {
		return exitCode("agent", err)
	}
	cfg.LogLevel = &lf.levelVar
	a, err := agent.New(cfg, log)
	if err != nil {
		return exitCode("agent", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-drainSignals:
			log.Info("SIGUSR1: killing every task, then stopping")
			a.KillAllOnStop()
			cancel()
		case <-ctx.Done():
		}
	}()
	return exitCode("agent", systemd.NewNotifier(log).Supervise(ctx, a.Ready(), a.Run))
}

func runExecutor(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn executor", os.Stderr)
	// The executor's stderr is the task's sandbox stderr, which users read:
	// only problems go there unless asked (CAIRN_LOGGING_LEVEL=INFO).
	lf := logFlags{defaultLevel: "WARNING"}
	lf.register(fs)

	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("executor", err)
	}
	log, err := lf.logger("executor")
	if err != nil {
		return exitCode("executor", err)
	}
	return exitCode("executor", executor.Run(ctx, os.Environ(), log))
}

func parseNoArgs(fs *flags.Set, args []string) error {
	rest, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	return nil
}

// runDev runs a master and an agent in one process. It accepts every master
// and every agent flag; a flag both have (--ip, --hostname, --advertise_ip,
// --work_dir, --logging_level) goes to both, with --work_dir the parent of
// master/ and agent/. --port and --gossip_port are the master's; the agent's
// are --agent_port and --agent_gossip_port.
func runDev(ctx context.Context, args []string) int {
	mfs := flags.NewSet("cairn dev", os.Stderr)
	afs := flags.NewSet("cairn dev", os.Stderr)
	var mcfg master.Config
	var acfg agent.Config
	mcfg.RegisterFlags(mfs)
	acfg.RegisterFlags(afs)
	var lf logFlags
	lf.register(mfs)
	var base string
	var agentPort, agentGossip int
	dfs := flags.NewSet("cairn dev", os.Stderr)
	dfs.String(&base, "work_dir", ".cairn", "parent of the master's and the agent's work dirs")
	dfs.Int(&agentPort, "agent_port", 5051, "the agent's HTTP port")
	dfs.Int(&agentGossip, "agent_gossip_port", 5056, "the agent's gossip port")

	var margs, aargs, dargs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return exitCode("dev", fmt.Errorf("unexpected argument %q", a))
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		name = strings.TrimPrefix(name, "no-")
		// "--flag value": keep the value with its flag.
		group := []string{a}
		if !hasValue && !dfs.IsBool(name) && !mfs.IsBool(name) && !afs.IsBool(name) && i+1 < len(args) {
			group = append(group, args[i+1])
			i++
		}
		switch {
		case dfs.Has(name):
			dargs = append(dargs, group...)
		case name == "port" || name == "gossip_port":
			margs = append(margs, group...)
		case mfs.Has(name) && afs.Has(name):
			margs, aargs = append(margs, group...), append(aargs, group...)
		case mfs.Has(name):
			margs = append(margs, group...)
		case afs.Has(name):
			aargs = append(aargs, group...)
		default:
			return exitCode("dev", fmt.Errorf("unknown flag %q (see cairn master --help and cairn agent --help)", a))
		}
	}
	if !hasFlag(margs, "ip") {
		margs = append(margs, "--ip=127.0.0.1")
		aargs = append(aargs, "--ip=127.0.0.1")
	}
	for _, p := range []struct {
		fs   *flags.Set
		args []string
	}{{dfs, dargs}, {mfs, margs}, {afs, aargs}} {
		if err := parseNoArgs(p.fs, p.args); err != nil {
			return exitCode("dev", err)
		}
	}
	// The agent's own values win over anything the environment gave both.
	if err := afs.FlagSet().Set("port", fmt.Sprint(agentPort)); err != nil {
		return exitCode("dev", err)
	}
	if err := afs.FlagSet().Set("gossip_port", fmt.Sprint(agentGossip)); err != nil {
		return exitCode("dev", err)
	}
	abs, err := filepath.Abs(base)
	if err != nil {
		return exitCode("dev", err)
	}
	mcfg.WorkDir = filepath.Join(abs, "master")
	acfg.WorkDir = filepath.Join(abs, "agent")
	log, err := lf.logger("dev")
	if err != nil {
		return exitCode("dev", err)
	}
	mcfg.LogLevel = &lf.levelVar
	acfg.LogLevel = &lf.levelVar
	m, err := master.New(mcfg, log.With("component", "master"))
	if err != nil {
		return exitCode("dev", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Run(gctx) })
	g.Go(func() error {
		select {
		case <-m.Ready():
		case <-gctx.Done():
			return nil
		}
		acfg.Master = net.JoinHostPort(m.Addr().Addr().String(), fmt.Sprint(m.Addr().Port()))
		a, err := agent.New(acfg, log.With("component", "agent"))
		if err != nil {
			return err
		}
		return a.Run(gctx)
	})
	log.Info("cairn dev: master and agent starting", "work_dir", abs)
	return exitCode("dev", g.Wait())
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		n := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if n == name {
			return true
		}
	}
	return false
}
