package master

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cairnhq/cairn/api/endpoint"
)

// leadership is who leads the masters. A single master always leads; with
// replicated masters (later) a standby learns the leader's address from the
// registry's election and redirects clients there, as Mesos does.
type leadership struct {
	self bool
	addr string // host:port of the leader's HTTP; "" when unknown
}

// leaderState holds the current leadership; the zero Master leads.
type leaderState struct{ p atomic.Pointer[leadership] }

func (l *leaderState) get() leadership {
	if v := l.p.Load(); v != nil {
		return *v
	}
	return leadership{self: true}
}

func (l *leaderState) set(v leadership) { l.p.Store(&v) }

// redirectToLeader answers a request this master must not serve because it
// does not lead: 307 to the same path on the leader, or 503 when no leader
// is known. It returns false when this master leads.
func (m *Master) redirectToLeader(w http.ResponseWriter, r *http.Request) bool {
	l := m.leader.get()
	if l.self {
		return false
	}
	if l.addr == "" {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "No leader elected")
		return true
	}
	path := r.URL.Path
	if strings.HasPrefix(path, "/master/") {
		path = strings.TrimPrefix(path, "/master")
	}
	w.Header().Set("Location", "//"+l.addr+path)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// serveRedirect answers /redirect: 307 to the leading master's root (or the
// path after /redirect), so tools can find the leader from any master.
func (m *Master) serveRedirect(w http.ResponseWriter, r *http.Request) {
	l := m.leader.get()
	addr := l.addr
	if l.self {
		addr = m.selfAddr()
	}
	if addr == "" {
		endpoint.Errorf(w, http.StatusServiceUnavailable, "No leader elected")
		return
	}
	rest := r.URL.Path[strings.Index(r.URL.Path, "/redirect")+len("/redirect"):]
	if rest == "" {
		rest = "/"
	}
	w.Header().Set("Location", "//"+addr+rest)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// selfAddr is this master's advertised host:port (its hostname, as Mesos
// puts in redirects). core.info is written once, before serving starts.
func (m *Master) selfAddr() string {
	info := m.core.info
	host := info.GetAddress().GetHostname()
	if host == "" {
		host = info.GetAddress().GetIp()
	}
	if host == "" {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(int(info.GetAddress().GetPort())))
}
