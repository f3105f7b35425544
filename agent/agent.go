package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// Version is what the agent reports in /state, GET_VERSION and AgentState.
const Version = "1.11.0-cairn"

// Containerizer is what the agent needs from a containerizer:
// containerizer.Linux in production, containerizer/fake in tests. Every
// method may block (kernel work) and is called from goroutines other than
// the agent's state loop; all must be safe for concurrent use.
type Containerizer interface {
	// Launch starts a container; it blocks until the init process runs.
	Launch(ctx context.Context, spec containerizer.Spec) (int, error)
	// Wait blocks until the container's init process has exited.
	Wait(ctx context.Context, id ids.ContainerID) (containerizer.Exit, error)
	// Destroy kills every process of the container and removes its
	// cgroups; idempotent.
	Destroy(ctx context.Context, id ids.ContainerID) error
	// Usage reads the container's resource usage (OOMKills among it).
	Usage(id ids.ContainerID) (containerizer.Usage, error)
	// Containers lists the containers present, including ones a previous
	// agent process left behind.
	Containers() ([]ids.ContainerID, error)
	// Recover re-attaches to a container a previous agent process left
	// behind, so Wait, Usage and Destroy work on it; it returns the init
	// pid, or containerizer.ErrNotFound.
	Recover(ctx context.Context, id ids.ContainerID) (int, error)
	// SandboxPath is where the host sandbox directory appears inside a
	// container.
	SandboxPath(host string) string
}

// Option changes how New builds an Agent.
type Option func(*options)

type options struct {
	ctr      Containerizer
	injected bool
	shaper   bandwidthShaper
	net      taskNetworker
	cgroups  func(ids.ContainerID) (uint64, bool, error)
}

// withBandwidthShaper replaces the kernel's bandwidth isolator and how a
// container's cgroup v2 id is found (tests: a fake containerizer has no
// cgroups).
func withBandwidthShaper(s bandwidthShaper, n taskNetworker, cgroups func(ids.ContainerID) (uint64, bool, error)) Option {
	return func(o *options) { o.shaper, o.net, o.cgroups = s, n, cgroups }
}

// WithContainerizer replaces the default Linux containerizer. The root and
// kernel checks of New belong to the Linux containerizer and are skipped:
// an injected containerizer brings its own requirements.
func WithContainerizer(c Containerizer) Option {
	return func(o *options) { o.ctr, o.injected = c, true }
}

// Agent is one agent daemon.
type Agent struct {
	cfg        Config
	log        *slog.Logger
	ctr        Containerizer
	isolation  isolators.Set
	total      resources.Resources
	attributes []*mesospb.Attribute
	client     *http.Client
	started    time.Time

	ready chan struct{}
	addr  netip.AddrPort // set before ready is closed
	ip    string         // advertised IP, set before ready

	cmds     chan func(*state) // to the state loop
	stop     chan struct{}     // closed when the loop ends
	wg       sync.WaitGroup    // goroutines started on behalf of the loop
	bg       context.Context   // lives until every container is destroyed
	bgCancel context.CancelFunc
	// launchSlots bounds concurrent container creation (cfg.MaxConcurrentLaunches).
	launchSlots chan struct{}
	runCtx      context.Context // network calls: done when shutdown starts
	// waitCtx ends the container waiters once the loop has stopped: the
	// containers of checkpointing frameworks outlive the agent.
	waitCtx    context.Context
	waitCancel context.CancelFunc

	ckpt             *checkpoint.Store
	recoveryErrors   atomic.Uint64 // checkpoint files found torn or corrupt
	checkpointErrors atomic.Uint64 // checkpoint writes that failed
	killAll          atomic.Bool   // KillAllOnStop was called
	admitted         atomic.Bool   // this process got Registered from a master

	publish chan struct{} // capacity 1: availability changed

	// injected: the containerizer came from WithContainerizer.
	injected bool
	// usage samples every container's usage (cgroup counters and the eBPF
	// meters); set by Run before anything serves, closed when Run ends.
	usage *usageMonitor

	// Bandwidth isolation (--isolation=...,network/bandwidth): netbwOn
	// says it is on, egress is the shaped interface, shaper an injected
	// one (tests), bw the record, set by Run before recovery.
	netbwOn   bool
	egress    string
	shaper    bandwidthShaper
	networker taskNetworker
	bw        *bandwidth
	// cgroupOf finds a container's cgroup v2 id (cgroupID on a.ctr).
	cgroupOf func(ids.ContainerID) (uint64, bool, error)

	// publicID mirrors the loop's agent id (an ids.AgentID) for handlers
	// that must not wait for the loop.
	publicID atomic.Value
}

// New validates cfg, probes the kernel (for the Linux containerizer),
// detects resources and prepares the work directory. It starts nothing.
func New(cfg Config, log *slog.Logger, opts ...Option) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if o.ctr == nil {
		if os.Geteuid() != 0 {
			return nil, errNotRoot
		}
		if err := probeKernel(); err != nil {
			return nil, fmt.Errorf("probe kernel: %w", err)
		}
	}
	ctrIsolation, netbwOn := splitIsolation(cfg.Isolation)
	iso, err := isolators.Parse(ctrIsolation, isolators.Config{EnableCFS: cfg.CgroupsEnableCFS, PidsMax: int64(cfg.CgroupsPidsMax)})
	if err != nil {
		return nil, fmt.Errorf("parse --isolation: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.WorkDir, "slaves"), 0o755); err != nil {
		return nil, fmt.Errorf("create work_dir: %w", err)
	}
	ckpt, err := checkpoint.Open(filepath.Join(cfg.WorkDir, "meta"), cfg.CheckpointFS)
	if err != nil {
		return nil, fmt.Errorf("open checkpoints: %w", err)
	}
	host, err := readHostFacts(cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	var egress string
	if netbwOn {
		if egress, host.NetMbps, err = egressFacts(cfg, resourcesNamed(cfg.Resources, netbwResource)); err != nil {
			return nil, err
		}
	}
	total, err := totalResources(cfg.Resources, host)
	if err != nil {
		return nil, err
	}
	attrs, err := parseAttributes(cfg.Attributes)
	if err != nil {
		return nil, fmt.Errorf("parse --attributes: %w", err)
	}
	if o.ctr == nil {
		lc, err := containerizer.New(containerizer.Config{
			StateDir:      filepath.Join(cfg.RuntimeDir, "containers"),
			CgroupsRoot:   cfg.CgroupsRoot,
			CgroupsDriver: cfg.CgroupsDriver,
			Logger:        log,
		})
		if err != nil {
			return nil, fmt.Errorf("start containerizer: %w", err)
		}
		o.ctr = lc
	}
	a := &Agent{
		cfg:         cfg,
		log:         log,
		ctr:         o.ctr,
		ckpt:        ckpt,
		isolation:   iso,
		total:       total,
		attributes:  attrs,
		client:      &http.Client{Timeout: 30 * time.Second},
		ready:       make(chan struct{}),
		launchSlots: make(chan struct{}, cfg.MaxConcurrentLaunches),
		cmds:        make(chan func(*state)),
		stop:        make(chan struct{}),
		publish:     make(chan struct{}, 1),
		injected:    o.injected,
		netbwOn:     netbwOn,
		egress:      egress,
		shaper:      o.shaper,
		networker:   o.net,
		cgroupOf:    o.cgroups,
	}
	if a.cgroupOf == nil {
		a.cgroupOf = func(c ids.ContainerID) (uint64, bool, error) { return cgroupID(a.ctr, c) }
	}
	names := iso.Names()
	if netbwOn {
		names = append(names, IsolationNetworkBandwidth)
	}
	log.Info("agent configured", "resources", total.String(), "work_dir", cfg.WorkDir, "isolation", names)
	return a, nil
}

// Ready is closed once the agent serves HTTP.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Addr is the HTTP address the agent listens on; valid after Ready.
func (a *Agent) Addr() netip.AddrPort { return a.addr }

// KillAllOnStop makes the coming shutdown destroy every container, those
// of checkpointing frameworks too, as Mesos's agent did on SIGUSR1 (an
// agent taken out of service, not restarted). Safe to call from any
// goroutine, before or during Run.
func (a *Agent) KillAllOnStop() { a.killAll.Store(true) }

// RecoveryErrors counts the checkpoint files found torn or corrupt since
// the agent started (Mesos's slave/recovery_errors).
func (a *Agent) RecoveryErrors() uint64 { return a.recoveryErrors.Load() }

// agentInfo builds the AgentInfo the master admits; id is empty before the
// first admission.
func (a *Agent) agentInfo(id ids.AgentID) *mesospb.AgentInfo {
	info := &mesospb.AgentInfo{
		Hostname:   proto.String(a.cfg.Hostname),
		Port:       proto.Int32(int32(a.addr.Port())),
		Resources:  a.total.ToProto(""),
		Attributes: a.attributes,
	}
	if id != "" {
		info.Id = &mesospb.AgentID{Value: proto.String(string(id))}
	}
	return info
}
