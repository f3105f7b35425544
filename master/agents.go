package master

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/master/gossip"
	"google.golang.org/protobuf/proto"
)

// startGossip joins the gossip pool as a master and re-joins the agents the
// registry remembers, so a restarted master finds them before they notice.
func (m *Master) startGossip(adv netip.Addr, httpPort uint16) error {
	meta, err := gossip.MarshalAvailability(gossip.Availability{
		Role: gossip.RoleMaster, HTTPPort: httpPort, Hostname: m.cfg.Hostname, Leader: true,
	})
	if err != nil {
		return err
	}
	g, err := gossip.New(gossip.Config{
		Name:          "master@" + netip.AddrPortFrom(adv, httpPort).String(),
		BindAddr:      m.cfg.IP,
		BindPort:      m.cfg.GossipPort,
		AdvertiseAddr: adv.String(),
		Meta:          meta,
		Logger:        m.log,
		Events:        m.onGossip,
	})
	if err != nil {
		return err
	}
	m.gossip = g
	var seeds []string
	for _, a := range m.reg.State().GetAgents() {
		if addr := a.GetGossipAddress(); addr != "" {
			seeds = append(seeds, addr)
		}
	}
	if len(seeds) > 0 {
		m.workers.Add(1)
		go func() {
			defer m.workers.Done()
			if _, err := g.Join(seeds); err != nil {
				m.log.Info("registered agents not reachable by gossip yet", "err", err)
			}
		}()
	}
	return nil
}

// onGossip runs on the gossip dispatcher goroutine; it hands the event to
// the loop.
func (m *Master) onGossip(ev gossip.Event) {
	httpAddr, ok := agentHTTPAddr(ev.Member)
	if !ok {
		return
	}
	m.post(func() { m.handleGossip(ev, httpAddr) })
}

// agentHTTPAddr finds an agent member's HTTP address: from its node name
// "agent@ip:port", with the gossip address's IP when the name's is a
// wildcard; false for masters and strangers.
func agentHTTPAddr(mem gossip.Member) (netip.AddrPort, bool) {
	rest, ok := strings.CutPrefix(mem.Name, "agent@")
	if av, err := gossip.UnmarshalAvailability(mem.Meta); err == nil {
		if av.Role != gossip.RoleAgent {
			return netip.AddrPort{}, false
		}
		if !ok {
			return netip.AddrPortFrom(mem.Addr.Addr(), av.HTTPPort), true
		}
	}
	if !ok {
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(rest)
	if err != nil {
		return netip.AddrPort{}, false
	}
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(mem.Addr.Addr(), ap.Port())
	}
	return ap, true
}

// handleGossip: loop goroutine.
func (m *Master) handleGossip(ev gossip.Event, httpAddr netip.AddrPort) {
	name := ev.Member.Name
	a := m.core.agentByNode(name)
	switch ev.Kind {
	case gossip.Join, gossip.Update:
		m.lastSeen[name] = ev.Member
		if a != nil && a.addr == httpAddr {
			av, err := gossip.UnmarshalAvailability(ev.Member.Meta)
			if err == nil && av.AgentID == a.id {
				a.idGossiped = true
			}
			readmit, wait := restarted(a, av, err, time.Now())
			if wait > 0 {
				m.recheckAfter(name, wait)
			}
			if !readmit {
				return
			}
		}
		if m.fetching[name] {
			return
		}
		m.fetching[name] = true
		gossipAddr := ev.Member.Addr.String()
		m.workers.Add(1)
		go func() {
			defer m.workers.Done()
			m.fetchAndAdmit(name, httpAddr, gossipAddr)
		}()
	case gossip.Fail, gossip.Leave:
		delete(m.lastSeen, name)
		if a == nil {
			return
		}
		m.core.RemoveAgent(a.id, ev.Kind == gossip.Leave, time.Now())
		m.stopSender(a.id)
	}
}

// readmitGrace is how long after an admission the agent may still publish
// availability without the id it was given, while the registered message
// is on its way and its gossip record has never carried the id.
const readmitGrace = 5 * time.Second

// restarted reads an admitted agent's gossip record av (err: it could not
// be decoded). readmit: the agent no longer knows the id it was given (it
// restarted faster than gossip could declare it failed, and publishes
// without an id until admitted), so it must be admitted again at once. A
// record without the id before any record carried it may only mean that
// the registered message is still on its way: readmit waits for the grace
// to end, and wait says when to look again.
func restarted(a *agent, av gossip.Availability, err error, now time.Time) (readmit bool, wait time.Duration) {
	if err != nil || av.AgentID == a.id {
		return false, 0
	}
	if av.AgentID != "" || a.idGossiped {
		return true, 0
	}
	if left := a.registered.Add(readmitGrace).Sub(now); left > 0 {
		return false, left
	}
	return true, 0
}

// recheckAfter looks at node's latest gossip record again after d, in case
// no further record arrives to prompt it (loop goroutine).
func (m *Master) recheckAfter(node string, d time.Duration) {
	if m.rechecks[node] {
		return
	}
	m.rechecks[node] = true
	t := time.AfterFunc(d, func() {
		m.post(func() {
			delete(m.rechecks, node)
			mem, ok := m.lastSeen[node]
			if !ok {
				return
			}
			if addr, ok := agentHTTPAddr(mem); ok {
				m.handleGossip(gossip.Event{Kind: gossip.Update, Member: mem}, addr)
			}
		})
	})
	if m.ctx != nil {
		context.AfterFunc(m.ctx, func() { t.Stop() })
	}
}

// fetchAndAdmit asks the agent for its state (a few tries) and admits it.
func (m *Master) fetchAndAdmit(name string, httpAddr netip.AddrPort, gossipAddr string) {
	st := &internalpb.AgentState{}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		ctx, cancel := context.WithTimeout(m.ctx, 5*time.Second)
		err = endpoint.Get(ctx, m.client, "http://"+httpAddr.String()+"/internal/v1/state", st)
		cancel()
		if err == nil || m.ctx.Err() != nil {
			break
		}
		select {
		case <-m.ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	m.post(func() {
		delete(m.fetching, name)
		if err != nil {
			m.log.Warn("agent state not fetched, not admitted", "node", name, "addr", httpAddr.String(), "err", err)
			return
		}
		if old := m.core.agentByNode(name); old != nil {
			m.stopSender(old.id)
		}
		if _, err := m.core.AdmitAgent(st, httpAddr, gossipAddr, name, time.Now()); err != nil {
			m.log.Warn("agent not admitted", "node", name, "err", err)
		}
	})
}

// serveGossipSeeds answers GET /internal/v1/gossip.
func (m *Master) serveGossipSeeds(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "expecting a 'GET' request, received '%s'", r.Method)
		return
	}
	var info *mesospb.MasterInfo
	if !m.do(r.Context(), func() { info = proto.Clone(m.core.info).(*mesospb.MasterInfo) }) {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "master is shutting down")
		return
	}
	seeds := &internalpb.GossipSeeds{MasterInfo: info}
	if m.gossip != nil {
		ga := m.gossip.LocalAddr()
		seeds.Addresses = []string{netip.AddrPortFrom(m.cfg.advertiseAddr(), ga.Port()).String()}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	b, _ := proto.Marshal(seeds)
	w.Write(b)
}

// serveStatusUpdate answers POST /internal/v1/status_update with 202.
func (m *Master) serveStatusUpdate(w http.ResponseWriter, r *http.Request) {
	su := &internalpb.StatusUpdate{}
	if _, err := endpoint.Decode(r, su); err != nil {
		endpoint.Error(w, err)
		return
	}
	if !m.do(r.Context(), func() { m.core.StatusUpdate(su, time.Now()) }) {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "master is shutting down")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveExecutorMessage answers POST /internal/v1/executor_message (an
// executor's MESSAGE, relayed to its framework) with 202.
func (m *Master) serveExecutorMessage(w http.ResponseWriter, r *http.Request) {
	em := &internalpb.ExecutorToFramework{}
	if _, err := endpoint.Decode(r, em); err != nil {
		endpoint.Error(w, err)
		return
	}
	if !m.do(r.Context(), func() { m.core.ExecutorMessage(em) }) {
		endpoint.Error(w, errShuttingDown)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveExecutorExited answers POST /internal/v1/executor_exited (FAILURE to
// the framework) with 202.
func (m *Master) serveExecutorExited(w http.ResponseWriter, r *http.Request) {
	ee := &internalpb.ExecutorExited{}
	if _, err := endpoint.Decode(r, ee); err != nil {
		endpoint.Error(w, err)
		return
	}
	if !m.do(r.Context(), func() { m.core.ExecutorExited(ee) }) {
		endpoint.Error(w, errShuttingDown)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
