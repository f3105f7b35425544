package executor

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/internal/flags"
)

// Defaults Mesos uses when the agent does not say otherwise.
const (
	defaultShutdownGrace   = 5 * time.Second
	defaultBackoffMax      = 2 * time.Second
	defaultRecoveryTimeout = 15 * time.Minute
	defaultKillGrace       = 3 * time.Second
	// ackWait bounds how long a finished executor waits for the agent to
	// acknowledge the terminal update before exiting anyway: the agent learns
	// the outcome from the container's exit if the update is lost.
	defaultAckWait = 5 * time.Second
)

// Config is what the executor learns from the MESOS_* environment the agent
// sets, plus knobs for tests.
type Config struct {
	AgentEndpoint string // MESOS_AGENT_ENDPOINT, ip:port
	FrameworkID   string // MESOS_FRAMEWORK_ID
	ExecutorID    string // MESOS_EXECUTOR_ID
	Sandbox       string // MESOS_SANDBOX, the task's working directory
	Directory     string // MESOS_DIRECTORY, the sandbox as the host sees it
	Checkpoint    bool   // MESOS_CHECKPOINT=1: survive agent restarts
	// Default makes this Mesos's default executor, which runs task groups
	// (ExecutorTypeEnv=default), instead of the command executor.
	Default                bool
	ShutdownGracePeriod    time.Duration
	SubscriptionBackoffMax time.Duration
	RecoveryTimeout        time.Duration

	// Env is the executor's whole environment ("K=V"); the task inherits it.
	Env []string

	// TaskCgroup, when set, is the cgroup.procs file the processes the
	// executor starts are moved to (TaskCgroupFDEnv).
	TaskCgroup *os.File

	// JSON selects the JSON codec on the wire; protobuf is the default.
	JSON bool
	// HTTPClient talks to the agent; nil means a private client with keep-alive.
	HTTPClient *http.Client
	// AckWait bounds the wait for the terminal update's acknowledgement.
	AckWait time.Duration
	// ReapAll makes the reaper collect every child (wait4(-1)), as the pid
	// namespace's init must. Off, it waits only for the task, which is what a
	// test process sharing its children with others needs. ConfigFromEnv turns
	// it on when the process is pid 1.
	ReapAll bool
}

// ConfigFromEnv reads the executor's configuration from environment entries
// ("K=V", as os.Environ returns them). A missing or malformed variable is an
// error that names it.
func ConfigFromEnv(env []string) (Config, error) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	taskCgroup, env, err := taskCgroupFromEnv(env)
	if err != nil {
		return Config{}, err
	}
	// The agent sets GOMAXPROCS for the executor's runtime; a task that
	// wants it sets it in its own CommandInfo environment.
	// ExecutorTypeEnv is the executor's own business too.
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "GOMAXPROCS=") || strings.HasPrefix(kv, ExecutorTypeEnv+"=")
	})
	cfg := Config{
		Env:                    env,
		TaskCgroup:             taskCgroup,
		ShutdownGracePeriod:    defaultShutdownGrace,
		SubscriptionBackoffMax: defaultBackoffMax,
		RecoveryTimeout:        defaultRecoveryTimeout,
	}
	required := []struct {
		name string
		dst  *string
	}{
		{"MESOS_AGENT_ENDPOINT", &cfg.AgentEndpoint},
		{"MESOS_FRAMEWORK_ID", &cfg.FrameworkID},
		{"MESOS_EXECUTOR_ID", &cfg.ExecutorID},
		{"MESOS_SANDBOX", &cfg.Sandbox},
	}
	for _, r := range required {
		v := vars[r.name]
		if v == "" {
			return Config{}, fmt.Errorf("environment variable %s is not set", r.name)
		}
		*r.dst = v
	}
	if !strings.Contains(cfg.AgentEndpoint, ":") {
		return Config{}, fmt.Errorf("environment variable MESOS_AGENT_ENDPOINT: %q is not ip:port", cfg.AgentEndpoint)
	}
	cfg.Directory = vars["MESOS_DIRECTORY"]
	switch v := vars["MESOS_CHECKPOINT"]; v {
	case "", "0", "false":
	case "1", "true":
		cfg.Checkpoint = true
	default:
		return Config{}, fmt.Errorf("environment variable MESOS_CHECKPOINT: %q is not 0 or 1", v)
	}
	switch v := vars[ExecutorTypeEnv]; v {
	case "", "command":
	case "default":
		cfg.Default = true
	default:
		return Config{}, fmt.Errorf("environment variable %s: %q is not command or default", ExecutorTypeEnv, v)
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", &cfg.ShutdownGracePeriod},
		{"MESOS_SUBSCRIPTION_BACKOFF_MAX", &cfg.SubscriptionBackoffMax},
		{"MESOS_RECOVERY_TIMEOUT", &cfg.RecoveryTimeout},
	}
	for _, d := range durations {
		v, ok := vars[d.name]
		if !ok || v == "" {
			continue
		}
		parsed, err := flags.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("environment variable %s: %w", d.name, err)
		}
		*d.dst = parsed
	}
	return cfg, nil
}

// withDefaults fills the zero fields a caller building Config by hand left.
func (c Config) withDefaults() Config {
	if c.ShutdownGracePeriod == 0 {
		c.ShutdownGracePeriod = defaultShutdownGrace
	}
	if c.SubscriptionBackoffMax == 0 {
		c.SubscriptionBackoffMax = defaultBackoffMax
	}
	if c.RecoveryTimeout == 0 {
		c.RecoveryTimeout = defaultRecoveryTimeout
	}
	if c.AckWait == 0 {
		c.AckWait = defaultAckWait
	}
	if c.HTTPClient == nil {
		// No proxy (the task's HTTP_PROXY is not for the agent), and an
		// agent that accepts but never answers counts as gone.
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: callTimeout,
		}}
	}
	return c
}
