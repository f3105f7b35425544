package gossip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrClosed is returned by calls on a Gossip after Close.
var ErrClosed = errors.New("gossip closed")

// Gossip is this process's membership in the gossip pool.
type Gossip struct {
	ml     *memberlist.Memberlist
	table  *table
	meta   *metaDelegate
	queue  *dispatcher // nil without Config.Events
	logger *slog.Logger
	name   string
	addr   netip.AddrPort // fixed at start; memberlist rewrites its copy

	// mu orders Leave and Close: memberlist panics on a Leave after its
	// Shutdown.
	mu     sync.Mutex
	closed bool
}

// New starts listening and becomes a pool of one; call Join to meet others.
// Events about the local member itself (its Join, its own metadata Updates)
// are delivered too; the first may reach the callback before New returns.
func New(cfg Config) (*Gossip, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("check gossip config: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("gossip_name", cfg.Name)

	g := &Gossip{
		table:  newTable(time.Now),
		meta:   &metaDelegate{meta: slices.Clone(cfg.Meta)},
		logger: logger,
		name:   cfg.Name,
	}
	if cfg.Events != nil {
		g.queue = newDispatcher(cfg.Events)
	}
	mc := cfg.memberlistConfig(logger)
	mc.Delegate = g.meta
	mc.Events = &eventDelegate{table: g.table, queue: g.queue}
	mc.Conflict = conflictLogger{logger: logger}

	ml, err := memberlist.Create(mc)
	if err != nil {
		if g.queue != nil {
			g.queue.close()
		}
		return nil, fmt.Errorf("start gossip on %s: %w",
			net.JoinHostPort(mc.BindAddr, strconv.Itoa(cfg.BindPort)), err)
	}
	g.ml = ml
	n := ml.LocalNode()
	ip, _ := netip.AddrFromSlice(n.Addr)
	g.addr = netip.AddrPortFrom(ip.Unmap(), n.Port)
	logger.Info("gossip started", "gossip_addr", g.addr.String())
	return g, nil
}

// Name is the local member's name.
func (g *Gossip) Name() string { return g.name }

// LocalAddr is the address peers use to reach this member (UDP and TCP);
// with an ephemeral BindPort this is where the chosen port shows up.
func (g *Gossip) LocalAddr() netip.AddrPort { return g.addr }

// Join contacts each seed ("host:port") by TCP push/pull and returns how
// many answered. It fails only if none did; the error names every seed and
// why it failed. Joining an unreachable host can take memberlist's TCP
// timeout (10 s) per seed.
func (g *Gossip) Join(seeds []string) (int, error) {
	if len(seeds) == 0 {
		return 0, errors.New("join gossip: no seeds")
	}
	for _, s := range seeds {
		if err := checkSeed(s); err != nil {
			return 0, fmt.Errorf("join gossip: %w", err)
		}
	}
	if g.isClosed() {
		return 0, fmt.Errorf("join gossip: %w", ErrClosed)
	}
	n, err := g.ml.Join(seeds)
	if err != nil {
		return n, fmt.Errorf("join gossip via %s: %w", strings.Join(seeds, ", "), err)
	}
	g.logger.Info("gossip joined", "seeds", seeds, "contacted", n)
	return n, nil
}

// checkSeed insists on an explicit port: memberlist would otherwise use our
// own bind port, which is meaningless when that port is ephemeral.
func checkSeed(seed string) error {
	host, port, err := net.SplitHostPort(seed)
	if err != nil {
		return fmt.Errorf("seed %q is not host:port: %w", seed, err)
	}
	if host == "" {
		return fmt.Errorf("seed %q has no host", seed)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("seed %q has no valid port", seed)
	}
	return nil
}

// SetMeta replaces the local metadata and broadcasts it; peers get an Update
// event. It waits up to a couple of seconds for the broadcast to go out;
// after that the update still spreads by gossip and push/pull, so a slow
// broadcast is logged, not returned.
func (g *Gossip) SetMeta(meta []byte) error {
	if len(meta) > MetaMaxSize {
		return fmt.Errorf("set gossip metadata: %d bytes, limit %d", len(meta), MetaMaxSize)
	}
	if g.isClosed() {
		return fmt.Errorf("set gossip metadata: %w", ErrClosed)
	}
	g.meta.set(meta)
	if err := g.ml.UpdateNode(updateTimeout); err != nil {
		g.logger.Debug("gossip metadata broadcast still queued", "err", err)
	}
	return nil
}

// Members lists every known member including the local one, sorted by name:
// live ones, and dead or left ones for a while after the fact. It reflects
// every event already handed to the dispatcher, possibly before the Events
// callback has seen it.
func (g *Gossip) Members() []Member { return g.table.snapshot() }

// Leave tells the pool this member is going away and waits up to timeout
// for the news to spread; peers get a Leave event, not a Fail. It first
// republishes the metadata marked as leaving, then sends memberlist's leave
// (see meta.go for why both). timeout must be positive. Call Close
// afterwards.
func (g *Gossip) Leave(timeout time.Duration) error {
	if timeout <= 0 {
		// memberlist would read 0 as "wait forever".
		return fmt.Errorf("leave gossip: timeout %s is not positive", timeout)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("leave gossip: %w", ErrClosed)
	}
	deadline := time.Now().Add(timeout)
	g.meta.setLeaving()
	if err := g.ml.UpdateNode(timeout / 2); err != nil {
		// Peers that miss the flag still get the dead message below; they
		// would only report a Fail instead of a Leave.
		g.logger.Warn("gossip leave announcement not yet sent", "err", err)
	}
	rest := time.Until(deadline)
	if rest <= 0 {
		rest = time.Millisecond // send the dead message, don't wait for it
	}
	if err := g.ml.Leave(rest); err != nil {
		return fmt.Errorf("leave gossip: %w", err)
	}
	g.logger.Info("gossip left")
	return nil
}

// Close stops gossip at once, without a Leave: to peers this looks like a
// crash and they report a Fail. Undelivered events are dropped and no
// callback runs after Close returns, so Close must not be called from the
// Events callback. Close is idempotent.
func (g *Gossip) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	err := g.ml.Shutdown()
	g.mu.Unlock()
	if g.queue != nil {
		g.queue.close()
	}
	if err != nil {
		return fmt.Errorf("shut down gossip: %w", err)
	}
	g.logger.Info("gossip stopped")
	return nil
}

func (g *Gossip) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// conflictLogger reports two live members claiming one name, which means
// two agents were started with the same node name: an operator error the
// pool cannot resolve by itself.
type conflictLogger struct {
	logger *slog.Logger
}

func (c conflictLogger) NotifyConflict(existing, other *memberlist.Node) {
	c.logger.Warn("gossip name conflict",
		"member", existing.Name,
		"existing_addr", existing.Address(),
		"other_addr", other.Address())
}
