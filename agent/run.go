package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Run recovers what a previous agent on the same work dir checkpointed,
// serves until ctx is done, then stops gossiping (announcing a leave only
// after KillAllOnStop), stops serving, destroys the containers of frameworks
// that do not checkpoint (those of checkpointing frameworks keep running for
// the next agent, unless KillAllOnStop was called) and returns nil. Errors are returned only for a failed start,
// e.g. a corrupt checkpoint with --strict.
//
// Run may be called once per Agent.
func (a *Agent) Run(ctx context.Context) error {
	a.started = time.Now()
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.IP, strconv.Itoa(a.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen for http: %w", err)
	}
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	if err != nil {
		ln.Close()
		return fmt.Errorf("parse listen address: %w", err)
	}
	a.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	a.ip = advertiseIP(a.cfg, a.addr.Addr())
	a.runCtx = ctx
	a.bg, a.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer a.bgCancel()
	a.waitCtx, a.waitCancel = context.WithCancel(a.bg)
	defer a.waitCancel()
	// The meters attach before recovery, so recovered containers are
	// measured from the first round; they detach when Run returns.
	if a.usage, err = openUsage(a.cfg.UsageSource, a.ctr, a.injected, a.log); err != nil {
		ln.Close()
		return err
	}
	defer a.usage.close()
	// A failed start after recovery began must release what recovery
	// started (waiters, destroys) before returning.
	abort := func(err error) error {
		ln.Close()
		a.waitCancel()
		close(a.stop)
		a.wg.Wait()
		return err
	}

	// Bandwidth isolation starts before recovery, which reconciles it
	// with the recovered tasks.
	if a.bw, err = a.openBandwidth(); err != nil {
		return abort(err)
	}
	defer a.closeBandwidth()
	if a.bw != nil {
		a.usage.src.Shaping = bandwidthStats{a.bw}
	}
	st, err := a.newState()
	if err != nil {
		return abort(err)
	}
	a.publicID.Store(st.agentID)
	if err := a.recoverState(ctx, st); err != nil {
		return abort(err)
	}

	g, err := a.startGossip(st)
	if err != nil {
		return abort(err)
	}
	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); a.loop(loopCtx, st) }()
	var side sync.WaitGroup
	side.Add(3)
	go func() { defer side.Done(); a.membership(ctx, g) }()
	go func() { defer side.Done(); a.publisher(ctx, g) }()
	go func() { defer side.Done(); a.sampleUsage(ctx) }()
	close(a.ready)
	a.log.Info("agent serving", "http_addr", a.addr.String(), "advertise_ip", a.ip, "gossip_name", g.Name())

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		a.log.Error("http server stopped", "err", err)
	}
	side.Wait()
	// Leaving tells the master the agent is gone for good, and it forgets
	// the agent and its tasks. Only an agent told to kill everything goes
	// (Mesos's SIGUSR1); one that stops leaving tasks to its successor just
	// falls silent, so a quick restart is never noticed, and a slow one is
	// an ordinary failure the agent re-registers from.
	if a.killAll.Load() {
		if err := g.Leave(time.Second); err != nil {
			a.log.Warn("leave gossip", "err", err)
		}
	}
	g.Close()
	// Executor streams keep their handlers open; close them so Shutdown
	// can finish, then destroy every container.
	a.shutdownExecutors()
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := srv.Shutdown(shCtx); err != nil {
		srv.Close()
	}
	cancel()
	stopLoop()
	<-loopDone
	a.waitCancel()
	a.wg.Wait()
	a.closeBandwidth()
	// A containerizer that owns more than its containers (the cgroups root)
	// releases it once every container is gone.
	if c, ok := a.ctr.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			a.log.Warn("close containerizer", "err", err)
		}
	}
	a.log.Info("agent stopped")
	return nil
}

// advertiseIP picks the IP others reach this agent at: --advertise_ip, else
// a specific --ip, else the local address the kernel would use towards the
// master (no packet is sent), else loopback.
func advertiseIP(cfg Config, listen netip.Addr) string {
	if cfg.AdvertiseIP != "" {
		return cfg.AdvertiseIP
	}
	if !listen.IsUnspecified() {
		return listen.String()
	}
	if c, err := net.Dial("udp", cfg.Master); err == nil {
		defer c.Close()
		if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
			return ua.IP.String()
		}
	}
	return "127.0.0.1"
}
