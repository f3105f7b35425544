package master

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/loglevel"
	"github.com/cairnhq/cairn/master/gossip"
	"github.com/cairnhq/cairn/master/registry"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// Master is the master daemon.
type Master struct {
	cfg   Config
	log   *slog.Logger
	reg   *registry.Registry
	core  *core
	start time.Time

	ready chan struct{}
	addr  netip.AddrPort // set before ready is closed

	// loop is where every state change runs; see doc.go.
	loop     chan func()
	loopDone chan struct{}

	// Owned by the loop goroutine.
	streams  map[string]*stream
	watchers map[string]*stream // operator SUBSCRIBE streams
	senders  map[ids.AgentID]*agentSender
	fetching map[string]bool // gossip node names being admitted
	// lastSeen is each agent node's latest gossip record and rechecks the
	// nodes due another look once their readmission grace ends (loop).
	lastSeen map[string]gossip.Member
	rechecks map[string]bool

	leader   leaderState
	logLevel *loglevel.Verbosity
	allocRun *allocTimer // loop-owned
	client   *http.Client
	gossip   *gossip.Gossip
	workers  sync.WaitGroup // stream writers are HTTP handlers; these are the rest
	ctx      context.Context
}

// New validates cfg and loads the registry. It opens no socket.
func New(cfg Config, log *slog.Logger) (*Master, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("check master config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg, err := registry.Open(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	alloc := cfg.Allocator
	if alloc == nil {
		if alloc, err = newAllocator(cfg); err != nil {
			return nil, err
		}
		// Logged so that a run of the random sorter can be replayed.
		log.Info("allocator policy", "role_sorter", cfg.RoleSorter, "framework_sorter", cfg.FrameworkSorter,
			"allocator_seed", cfg.AllocatorSeed)
	}
	m := &Master{
		cfg: cfg, log: log, reg: reg,
		ready:    make(chan struct{}),
		loop:     make(chan func(), 256),
		loopDone: make(chan struct{}),
		streams:  map[string]*stream{},
		watchers: map[string]*stream{},
		senders:  map[ids.AgentID]*agentSender{},
		fetching: map[string]bool{},
		lastSeen: map[string]gossip.Member{},
		rechecks: map[string]bool{},
		client:   &http.Client{Timeout: 10 * time.Second},
		logLevel: loglevel.New(cfg.LogLevel),
		allocRun: newAllocTimer(),
	}
	m.core = newCore(log, ids.MasterID(uuid.NewString()), alloc, reg, cfg)
	return m, nil
}

// recoveryGrace is the least time a framework recovered from the registry
// gets to resubscribe after a master restart, whatever its failover
// timeout (Mesos waits for frameworks after a failover too).
const recoveryGrace = 2 * time.Minute

// newCore builds the core from the registry's state.
func newCore(log *slog.Logger, id ids.MasterID, alloc Allocator, reg *registry.Registry, cfg Config) *core {
	c := &core{
		log: log, masterID: id, alloc: alloc, reg: reg,
		heartbeat:              cfg.HeartbeatInterval,
		offerTTL:               cfg.OfferTimeout,
		maxCompletedFrameworks: cfg.MaxCompletedFrameworks,
		maxCompletedTasks:      cfg.MaxCompletedTasksPerFramework,
		frameworks:             map[ids.FrameworkID]*framework{},
		agents:                 map[ids.AgentID]*agent{},
		offers:                 map[ids.OfferID]*offer{},
		masterUpdates:          map[string]ids.FrameworkID{},
		recovered:              map[ids.AgentID]*mesospb.AgentInfo{},
		unreachable:            map[ids.AgentID]time.Time{},
		gone:                   map[ids.AgentID]bool{},
		terminal:               map[mesospb.TaskState]uint64{},
		newUUID: func() []byte {
			u := uuid.New()
			return u[:]
		},
		info: &mesospb.MasterInfo{Id: proto.String(string(id)), Ip: proto.Uint32(0), Port: proto.Uint32(0)},
	}
	st := reg.State()
	c.nextAgent = st.GetNextAgent()
	c.nextFramework = st.GetNextFramework()
	for _, a := range st.GetAgents() {
		c.recovered[ids.AgentID(a.GetInfo().GetId().GetValue())] = a.GetInfo()
	}
	for _, g := range st.GetGoneAgents() {
		c.gone[ids.AgentID(g.GetId().GetValue())] = true
	}
	c.restorePolicy(st, cfg.weights)
	now := time.Now()
	for _, rf := range st.GetFrameworks() {
		info := rf.GetInfo()
		fid := ids.FrameworkID(info.GetId().GetValue())
		f := &framework{
			id: fid, info: info, registered: rf.RegisteredTime(), unregistered: now,
			tasks: map[ids.TaskID]*task{}, offers: map[ids.OfferID]bool{}, suppressed: map[string]bool{},
			executors: map[ids.AgentID]map[string]*mesospb.ExecutorInfo{},
		}
		// A recovered framework has until its failover timeout, counted
		// from now, to resubscribe, and at least recoveryGrace: its
		// scheduler needs time to notice that the master restarted.
		timeout := time.Duration(info.GetFailoverTimeout() * float64(time.Second))
		f.deadline = now.Add(max(timeout, recoveryGrace))
		c.frameworks[fid] = f
		if err := alloc.AddFramework(fid, f.allocInfo(), nil, false); err != nil {
			log.Warn("allocator rejected a recovered framework", "framework_id", fid, "err", err)
		}
	}
	return c
}

// setInfo fills in MasterInfo once the HTTP address is known.
func (c *core) setInfo(ip netip.Addr, port uint16, hostname string) {
	var packed uint32
	if ip.Is4() {
		b := ip.As4()
		packed = binary.LittleEndian.Uint32(b[:]) // network order bytes, read as Mesos does
	}
	c.info = &mesospb.MasterInfo{
		Id:       proto.String(string(c.masterID)),
		Ip:       proto.Uint32(packed),
		Port:     proto.Uint32(uint32(port)),
		Pid:      proto.String("master@" + netip.AddrPortFrom(ip, port).String()),
		Hostname: proto.String(hostname),
		Version:  proto.String(Version),
		Address: &mesospb.Address{
			Hostname: proto.String(hostname),
			Ip:       proto.String(ip.String()),
			Port:     proto.Int32(int32(port)),
		},
	}
}

// Ready is closed once the master serves HTTP.
func (m *Master) Ready() <-chan struct{} { return m.ready }

// Addr is the HTTP listen address; valid after Ready.
func (m *Master) Addr() netip.AddrPort { return m.addr }

// ID is the master's id (a UUID, new at every start).
func (m *Master) ID() ids.MasterID { return m.core.masterID }

// Run serves until ctx is done, then shuts down and returns nil.
func (m *Master) Run(ctx context.Context) error {
	m.start = time.Now()
	ln, err := net.Listen("tcp", net.JoinHostPort(m.cfg.IP, strconv.Itoa(m.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	la := ln.Addr().(*net.TCPAddr)
	port := uint16(la.Port)
	adv := m.cfg.advertiseAddr()
	m.core.setInfo(adv, port, m.cfg.Hostname)
	lip, _ := netip.AddrFromSlice(la.IP)
	m.addr = netip.AddrPortFrom(lip.Unmap(), port)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.ctx = ctx

	if err := m.startGossip(adv, port); err != nil {
		ln.Close()
		return err
	}

	srv := &http.Server{Handler: m.Handler(), BaseContext: func(net.Listener) context.Context { return ctx }}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	go m.runLoop(ctx)
	m.log.Info("master started", "master_id", m.core.masterID, "addr", m.addr.String(),
		"advertise", netip.AddrPortFrom(adv, port).String(), "work_dir", m.cfg.WorkDir)
	close(m.ready)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve http: %w", err)
		}
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	// Streams end when ctx is cancelled (BaseContext), so Shutdown does not
	// wait for them forever.
	srv.Shutdown(shutdownCtx)
	<-m.loopDone
	if m.gossip != nil {
		m.gossip.Leave(time.Second)
		m.gossip.Close()
	}
	m.workers.Wait()
	m.logLevel.Stop()
	m.log.Info("master stopped")
	return runErr
}

// do runs fn on the loop goroutine and waits for it; false if the master is
// shutting down.
func (m *Master) do(ctx context.Context, fn func()) bool {
	done := make(chan struct{})
	wrapped := func() { fn(); close(done) }
	select {
	case m.loop <- wrapped:
	case <-ctx.Done():
		return false
	case <-m.loopDone:
		return false
	}
	select {
	case <-done:
		return true
	case <-m.loopDone:
		return false
	}
}

// post runs fn on the loop without waiting.
func (m *Master) post(fn func()) {
	select {
	case m.loop <- fn:
	case <-m.loopDone:
	}
}

// runLoop is the one goroutine that touches the core. After every batch of
// messages it performs the core's effects and, if resources were freed or
// added, allocates at once (coalesced: at most once per batch).
func (m *Master) runLoop(ctx context.Context) {
	defer close(m.loopDone)
	allocTick := time.NewTicker(m.cfg.AllocationInterval)
	defer allocTick.Stop()
	timers := time.NewTicker(100 * time.Millisecond)
	defer timers.Stop()
	defer m.stopAll()
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-m.loop:
			fn()
			// Drain what else is waiting, so a burst of calls costs one
			// allocation.
			for n := 0; n < 64; n++ {
				select {
				case fn := <-m.loop:
					fn()
					continue
				default:
				}
				break
			}
		case <-allocTick.C:
			m.core.allocateSoon = true
		case now := <-timers.C:
			m.core.expireOffers(now)
			m.core.expireFrameworks(now)
		}
		if m.core.allocateSoon {
			start := time.Now()
			m.core.Allocate(start)
			m.allocRun.observe(time.Since(start))
		}
		m.perform(m.core.take())
	}
}

// perform carries out the core's effects.
func (m *Master) perform(effects []any) {
	for _, e := range effects {
		switch e := e.(type) {
		case sendEvent:
			s, ok := m.streams[e.Stream]
			if !ok {
				continue
			}
			if !s.enqueue(e.Event) {
				m.log.Warn("framework too slow, closing its stream", "framework_id", s.fw, "stream_id", s.id)
				m.endStream(s)
				m.core.StreamClosed(s.id, time.Now())
			}
		case closeStream:
			if s, ok := m.streams[e.Stream]; ok {
				m.endStream(s)
			}
		case toAgent:
			m.sender(e.Agent, e.Addr).push(agentMsg{path: e.Path, msg: e.Msg, once: e.BestEffort})
		case operatorEvent:
			for _, w := range m.watchers {
				if !w.enqueue(e.Event) {
					m.log.Warn("operator subscriber too slow, closing its stream", "stream_id", w.id)
					m.endWatcher(w)
				}
			}
		}
	}
	// Effects of effects (a stream closed for overflow disconnects its
	// framework).
	if more := m.core.take(); len(more) > 0 {
		m.perform(more)
	}
}

func (m *Master) endStream(s *stream) {
	delete(m.streams, s.id)
	s.end()
}

// stopAll ends every stream and sender at shutdown.
func (m *Master) stopAll() {
	for _, s := range m.streams {
		s.end()
	}
	for _, s := range m.watchers {
		s.end()
	}
	for id, s := range m.senders {
		s.stop()
		delete(m.senders, id)
	}
}
