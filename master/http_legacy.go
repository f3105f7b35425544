package master

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/ids"
)

// The legacy JSON endpoints Mesos serves beside the v1 API, in the shapes
// tools scrape. Each is served bare and under /master/.

// legacyRoutes maps each legacy path (without the /master prefix) to its
// handler.
func (m *Master) legacyRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"/health":           m.serveHealth,
		"/version":          m.serveVersion,
		"/flags":            m.serveFlags,
		"/state":            m.serveState,
		"/state.json":       m.serveState,
		"/slaves":           m.serveSlaves,
		"/frameworks":       m.serveFrameworks,
		"/tasks":            m.serveTasks,
		"/tasks.json":       m.serveTasks,
		"/roles":            m.serveRoles,
		"/roles.json":       m.serveRoles,
		"/redirect":         m.serveRedirect,
		"/redirect/":        m.serveRedirect,
		"/teardown":         m.serveTeardown,
		"/metrics/snapshot": m.serveMetrics,
	}
}

// loopJSON computes a JSON value on the loop and writes it.
func (m *Master) loopJSON(w http.ResponseWriter, r *http.Request, fn func() any) {
	var v any
	if !m.do(r.Context(), func() { v = fn() }) {
		http.Error(w, "master is shutting down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, v)
}

func (m *Master) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

func (m *Master) serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"version": Version, "build_date": "", "build_time": 0, "build_user": "", "git_sha": ""})
}

func (m *Master) serveFlags(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"flags": m.flagValues()})
}

func (m *Master) serveState(w http.ResponseWriter, r *http.Request) {
	m.loopJSON(w, r, func() any { return m.legacyState() })
}

func (m *Master) serveSlaves(w http.ResponseWriter, r *http.Request) {
	m.loopJSON(w, r, func() any {
		return map[string]any{"slaves": m.legacySlaves(), "recovered_slaves": m.legacyRecovered()}
	})
}

func (m *Master) serveFrameworks(w http.ResponseWriter, r *http.Request) {
	m.loopJSON(w, r, func() any {
		live, done := m.legacyFrameworks()
		return map[string]any{"frameworks": live, "completed_frameworks": done, "unregistered_frameworks": []any{}}
	})
}

func (m *Master) serveRoles(w http.ResponseWriter, r *http.Request) {
	m.loopJSON(w, r, func() any { return map[string]any{"roles": m.legacyRoles()} })
}

// serveTasks answers /tasks?limit=&offset=&order= : live and completed
// tasks of every framework, sorted by the time of their first status
// (descending by default, "asc" for ascending), paginated (limit 100).
func (m *Master) serveTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 100)
	if err != nil {
		endpoint.Errorf(w, http.StatusBadRequest, "%v", err)
		return
	}
	offset, err := queryInt(q, "offset", 0)
	if err != nil {
		endpoint.Errorf(w, http.StatusBadRequest, "%v", err)
		return
	}
	order := q.Get("order")
	if order == "" {
		order = "des"
	}
	if order != "asc" && order != "des" {
		endpoint.Errorf(w, http.StatusBadRequest, "Failed to parse 'order': expected 'asc' or 'des', got %q", order)
		return
	}
	m.loopJSON(w, r, func() any {
		type entry struct {
			start float64
			id    string
			json  map[string]any
		}
		var all []entry
		add := func(f *framework) {
			for _, t := range f.tasks {
				all = append(all, entry{firstStatus(t.pb), t.pb.GetTaskId().GetValue(), legacyTask(t.pb)})
			}
			for _, t := range f.completed {
				all = append(all, entry{firstStatus(t), t.GetTaskId().GetValue(), legacyTask(t)})
			}
		}
		for _, f := range m.core.sortedFrameworks() {
			add(f)
		}
		for _, f := range m.core.completed {
			add(f)
		}
		slices.SortFunc(all, func(a, b entry) int {
			if c := cmp.Compare(a.start, b.start); c != 0 {
				if order == "des" {
					return -c
				}
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		out := []any{}
		for i := offset; i < len(all) && len(out) < limit; i++ {
			out = append(out, all[i].json)
		}
		return map[string]any{"tasks": out}
	})
}

func queryInt(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, &parseError{name: name, value: s}
	}
	return n, nil
}

type parseError struct{ name, value string }

func (e *parseError) Error() string {
	return "Failed to parse '" + e.name + "': '" + e.value + "' is not a non-negative integer"
}

// serveTeardown answers POST /teardown with the form body
// frameworkId=<id>, as Mesos does.
func (m *Master) serveTeardown(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		endpoint.Errorf(w, http.StatusMethodNotAllowed, "Expecting a 'POST' request, received '%s'", r.Method)
		return
	}
	if m.redirectToLeader(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		endpoint.Errorf(w, http.StatusBadRequest, "Unable to parse request body: %v", err)
		return
	}
	id := r.PostForm.Get("frameworkId")
	if id == "" {
		endpoint.Errorf(w, http.StatusBadRequest, "Missing 'frameworkId' query parameter in the request body")
		return
	}
	if err := m.onLoop(r, func() error { return m.core.TeardownFramework(ids.FrameworkID(id), time.Now()) }); err != nil {
		endpoint.Error(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
