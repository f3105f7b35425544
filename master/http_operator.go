package master

import (
	"net/http"
	"slices"
	"time"

	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// serveOperator answers the operator API subset (POST /api/v1).
func (m *Master) serveOperator(w http.ResponseWriter, r *http.Request) {
	call := &masterpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	t := call.GetType()
	resp := &masterpb.Response{}
	if rt, ok := masterpb.Response_Type_value[t.String()]; ok {
		resp.Type = masterpb.Response_Type(rt).Enum()
	}
	switch t {
	case masterpb.Call_GET_HEALTH:
		resp.GetHealth = &masterpb.Response_GetHealth{Healthy: proto.Bool(true)}
	case masterpb.Call_GET_VERSION:
		resp.GetVersion = &masterpb.Response_GetVersion{VersionInfo: &mesospb.VersionInfo{Version: proto.String(Version)}}
	case masterpb.Call_GET_FLAGS:
		resp.GetFlags = &masterpb.Response_GetFlags{}
		flags := m.flagValues()
		names := make([]string, 0, len(flags))
		for k := range flags {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			resp.GetFlags.Flags = append(resp.GetFlags.Flags, &mesospb.Flag{Name: proto.String(k), Value: proto.String(flags[k])})
		}
	case masterpb.Call_GET_STATE, masterpb.Call_GET_AGENTS, masterpb.Call_GET_FRAMEWORKS,
		masterpb.Call_GET_TASKS, masterpb.Call_GET_MASTER:
		if !m.do(r.Context(), func() { m.fillView(t, resp) }) {
			endpoint.Errorf(w, http.StatusServiceUnavailable, "master is shutting down")
			return
		}
	default:
		endpoint.Errorf(w, http.StatusNotImplemented, "operator call %s is not implemented yet", t)
		return
	}
	endpoint.Reply(w, codec, http.StatusOK, resp)
}

// fillView runs on the loop.
func (m *Master) fillView(t masterpb.Call_Type, resp *masterpb.Response) {
	c := m.core
	switch t {
	case masterpb.Call_GET_STATE:
		resp.GetState = c.viewState()
	case masterpb.Call_GET_AGENTS:
		resp.GetAgents = c.viewAgents()
	case masterpb.Call_GET_FRAMEWORKS:
		resp.GetFrameworks = c.viewFrameworks()
	case masterpb.Call_GET_TASKS:
		resp.GetTasks = c.viewTasks()
	case masterpb.Call_GET_MASTER:
		resp.GetMaster = &masterpb.Response_GetMaster{
			MasterInfo:  proto.Clone(c.info).(*mesospb.MasterInfo),
			StartTime:   proto.Float64(seconds(m.start)),
			ElectedTime: proto.Float64(seconds(m.start)),
		}
	}
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (m *Master) flagValues() map[string]string {
	if m.cfg.Flags != nil {
		return m.cfg.Flags()
	}
	return map[string]string{}
}

func (m *Master) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

func (m *Master) serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"version": Version, "build_date": "", "build_time": 0, "build_user": ""})
}

func (m *Master) serveFlags(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"flags": m.flagValues()})
}
