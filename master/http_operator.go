package master

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// serveOperator answers the operator API (POST /api/v1). Queries answer
// 200 with a Response of the call's type; commands answer 200 (or 202 for
// reservations, which the agent applies later) with no body; SUBSCRIBE
// streams events.
func (m *Master) serveOperator(w http.ResponseWriter, r *http.Request) {
	call := &masterpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	if !answeredByAnyMaster(call.GetType()) && m.redirectToLeader(w, r) {
		return
	}
	if err := checkOperatorCall(call); err != nil {
		endpoint.Error(w, err)
		return
	}
	t := call.GetType()
	if t == masterpb.Call_SUBSCRIBE {
		m.watch(w, r, codec)
		return
	}
	resp, status, err := m.operatorCall(r, call)
	switch {
	case err != nil:
		endpoint.Error(w, err)
	case resp == nil:
		w.WriteHeader(status)
	default:
		if rt, ok := masterpb.Response_Type_value[t.String()]; ok {
			resp.Type = masterpb.Response_Type(rt).Enum()
		}
		endpoint.Reply(w, codec, status, resp)
	}
}

// answeredByAnyMaster: calls about this master process itself, which a
// standby answers too (as in Mesos); the rest go to the leader.
func answeredByAnyMaster(t masterpb.Call_Type) bool {
	switch t {
	case masterpb.Call_GET_HEALTH, masterpb.Call_GET_FLAGS, masterpb.Call_GET_VERSION, masterpb.Call_GET_METRICS,
		masterpb.Call_GET_LOGGING_LEVEL, masterpb.Call_SET_LOGGING_LEVEL, masterpb.Call_LIST_FILES, masterpb.Call_READ_FILE:
		return true
	}
	return false
}

var errShuttingDown = &api.HTTPError{Status: http.StatusServiceUnavailable, Msg: "master is shutting down"}

// onLoop runs fn on the state loop and returns its error.
func (m *Master) onLoop(r *http.Request, fn func() error) error {
	var err error
	if !m.do(r.Context(), func() { err = fn() }) {
		return errShuttingDown
	}
	return err
}

// operatorCall performs every call but SUBSCRIBE. A nil response with a
// nil error means an empty body with the status.
func (m *Master) operatorCall(r *http.Request, call *masterpb.Call) (*masterpb.Response, int, error) {
	resp := &masterpb.Response{}
	now := time.Now()
	c := m.core
	view := func(fn func()) (*masterpb.Response, int, error) {
		return resp, http.StatusOK, m.onLoop(r, func() error { fn(); return nil })
	}
	command := func(status int, fn func() error) (*masterpb.Response, int, error) {
		return nil, status, m.onLoop(r, fn)
	}
	switch call.GetType() {
	case masterpb.Call_GET_HEALTH:
		resp.GetHealth = &masterpb.Response_GetHealth{Healthy: proto.Bool(true)}
	case masterpb.Call_GET_VERSION:
		resp.GetVersion = &masterpb.Response_GetVersion{VersionInfo: versionInfo()}
	case masterpb.Call_GET_FLAGS:
		resp.GetFlags = &masterpb.Response_GetFlags{Flags: m.flagList()}
	case masterpb.Call_GET_METRICS:
		snap, err := m.metricsSnapshot(r)
		if err != nil {
			return nil, 0, err
		}
		resp.GetMetrics = &masterpb.Response_GetMetrics{Metrics: mesospb.MetricList(snap)}
	case masterpb.Call_GET_LOGGING_LEVEL:
		resp.GetLoggingLevel = &masterpb.Response_GetLoggingLevel{Level: proto.Uint32(m.logLevel.Get())}
	case masterpb.Call_SET_LOGGING_LEVEL:
		sl := call.GetSetLoggingLevel()
		m.logLevel.Set(sl.GetLevel(), time.Duration(sl.GetDuration().GetNanoseconds()))
		return nil, http.StatusOK, nil
	case masterpb.Call_LIST_FILES:
		return nil, 0, noFiles(call.GetListFiles().GetPath())
	case masterpb.Call_READ_FILE:
		return nil, 0, noFiles(call.GetReadFile().GetPath())
	case masterpb.Call_GET_STATE:
		return view(func() { resp.GetState = c.viewState() })
	case masterpb.Call_GET_AGENTS:
		return view(func() { resp.GetAgents = c.viewAgents() })
	case masterpb.Call_GET_FRAMEWORKS:
		return view(func() { resp.GetFrameworks = c.viewFrameworks() })
	case masterpb.Call_GET_EXECUTORS:
		return view(func() { resp.GetExecutors = c.viewExecutors() })
	case masterpb.Call_GET_OPERATIONS:
		// No offer operation is tracked with an id yet.
		resp.GetOperations = &masterpb.Response_GetOperations{}
	case masterpb.Call_GET_TASKS:
		return view(func() { resp.GetTasks = c.viewTasks() })
	case masterpb.Call_GET_ROLES:
		return view(func() { resp.GetRoles = c.viewRoles() })
	case masterpb.Call_GET_WEIGHTS:
		return view(func() { resp.GetWeights = &masterpb.Response_GetWeights{WeightInfos: c.Weights()} })
	case masterpb.Call_GET_MASTER:
		return view(func() { resp.GetMaster = m.viewMaster() })
	case masterpb.Call_GET_QUOTA:
		return view(func() { resp.GetQuota = &masterpb.Response_GetQuota{Status: c.Quota()} })
	case masterpb.Call_UPDATE_WEIGHTS:
		return command(http.StatusOK, func() error { return c.UpdateWeights(call.GetUpdateWeights().GetWeightInfos()) })
	case masterpb.Call_UPDATE_QUOTA:
		uq := call.GetUpdateQuota()
		return command(http.StatusOK, func() error { return c.UpdateQuota(uq.GetQuotaConfigs(), uq.GetForce(), now) })
	case masterpb.Call_SET_QUOTA:
		return command(http.StatusOK, func() error { return c.SetQuota(call.GetSetQuota().GetQuotaRequest(), now) })
	case masterpb.Call_REMOVE_QUOTA:
		return command(http.StatusOK, func() error { return c.RemoveQuota(call.GetRemoveQuota().GetRole(), now) })
	case masterpb.Call_RESERVE_RESOURCES:
		rr := call.GetReserveResources()
		return command(http.StatusAccepted, func() error {
			return c.Reserve(ids.AgentID(rr.GetAgentId().GetValue()), rr.GetResources(), false, now)
		})
	case masterpb.Call_UNRESERVE_RESOURCES:
		ur := call.GetUnreserveResources()
		return command(http.StatusAccepted, func() error {
			return c.Reserve(ids.AgentID(ur.GetAgentId().GetValue()), ur.GetResources(), true, now)
		})
	case masterpb.Call_TEARDOWN:
		fid := ids.FrameworkID(call.GetTeardown().GetFrameworkId().GetValue())
		return command(http.StatusOK, func() error { return c.TeardownFramework(fid, now) })
	case masterpb.Call_MARK_AGENT_GONE:
		aid := ids.AgentID(call.GetMarkAgentGone().GetAgentId().GetValue())
		return command(http.StatusOK, func() error {
			err := c.MarkAgentGone(aid, now)
			m.stopSender(aid)
			return err
		})
	case masterpb.Call_DRAIN_AGENT:
		da := call.GetDrainAgent()
		return command(http.StatusOK, func() error {
			return c.DrainAgent(ids.AgentID(da.GetAgentId().GetValue()), da.GetMaxGracePeriod(), now)
		})
	case masterpb.Call_DEACTIVATE_AGENT:
		aid := ids.AgentID(call.GetDeactivateAgent().GetAgentId().GetValue())
		return command(http.StatusOK, func() error { return c.DeactivateAgent(aid, now) })
	case masterpb.Call_REACTIVATE_AGENT:
		aid := ids.AgentID(call.GetReactivateAgent().GetAgentId().GetValue())
		return command(http.StatusOK, func() error { return c.ReactivateAgent(aid) })
	case masterpb.Call_CREATE_VOLUMES, masterpb.Call_DESTROY_VOLUMES, masterpb.Call_GROW_VOLUME,
		masterpb.Call_SHRINK_VOLUME:
		return nil, 0, &api.HTTPError{Status: http.StatusNotImplemented,
			Msg: fmt.Sprintf("%s is not implemented: Cairn has no persistent volumes yet", call.GetType())}
	case masterpb.Call_GET_MAINTENANCE_STATUS, masterpb.Call_GET_MAINTENANCE_SCHEDULE,
		masterpb.Call_UPDATE_MAINTENANCE_SCHEDULE, masterpb.Call_START_MAINTENANCE, masterpb.Call_STOP_MAINTENANCE:
		return nil, 0, &api.HTTPError{Status: http.StatusNotImplemented,
			Msg: fmt.Sprintf("%s is not implemented: use DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT", call.GetType())}
	default:
		return nil, 0, badRequest("Unsupported call type %s", call.GetType())
	}
	return resp, http.StatusOK, nil
}

// checkOperatorCall checks that the call's union member is present, as
// Mesos's validation does, naming the missing field.
func checkOperatorCall(call *masterpb.Call) error {
	present := map[masterpb.Call_Type]struct {
		field string
		ok    bool
	}{
		masterpb.Call_SET_LOGGING_LEVEL:   {"set_logging_level", call.SetLoggingLevel != nil},
		masterpb.Call_LIST_FILES:          {"list_files", call.ListFiles != nil},
		masterpb.Call_READ_FILE:           {"read_file", call.ReadFile != nil},
		masterpb.Call_UPDATE_WEIGHTS:      {"update_weights", call.UpdateWeights != nil},
		masterpb.Call_RESERVE_RESOURCES:   {"reserve_resources", call.ReserveResources != nil},
		masterpb.Call_UNRESERVE_RESOURCES: {"unreserve_resources", call.UnreserveResources != nil},
		masterpb.Call_UPDATE_QUOTA:        {"update_quota", call.UpdateQuota != nil},
		masterpb.Call_SET_QUOTA:           {"set_quota", call.SetQuota != nil},
		masterpb.Call_REMOVE_QUOTA:        {"remove_quota", call.RemoveQuota != nil},
		masterpb.Call_TEARDOWN:            {"teardown", call.Teardown != nil},
		masterpb.Call_MARK_AGENT_GONE:     {"mark_agent_gone", call.MarkAgentGone != nil},
		masterpb.Call_DRAIN_AGENT:         {"drain_agent", call.DrainAgent != nil},
		masterpb.Call_DEACTIVATE_AGENT:    {"deactivate_agent", call.DeactivateAgent != nil},
		masterpb.Call_REACTIVATE_AGENT:    {"reactivate_agent", call.ReactivateAgent != nil},
	}
	if p, ok := present[call.GetType()]; ok && !p.ok {
		return badRequest("Expecting '%s' to be present", p.field)
	}
	if call.Type == nil {
		return badRequest("Expecting 'type' to be present")
	}
	return nil
}

// noFiles answers LIST_FILES and READ_FILE: the master serves no files (it
// has no sandboxes, and keeps no log files: it logs to stderr, as a Mesos
// master started without --log_dir).
func noFiles(path string) error {
	return notFound("Failed to find '%s': the master serves no files (no --log_dir)", path)
}

func versionInfo() *mesospb.VersionInfo {
	return &mesospb.VersionInfo{Version: proto.String(Version)}
}

// viewMaster is GET_MASTER (loop goroutine).
func (m *Master) viewMaster() *masterpb.Response_GetMaster {
	return &masterpb.Response_GetMaster{
		MasterInfo:  proto.Clone(m.core.info).(*mesospb.MasterInfo),
		StartTime:   proto.Float64(seconds(m.start)),
		ElectedTime: proto.Float64(seconds(m.start)),
	}
}

func (m *Master) flagList() []*mesospb.Flag {
	return mesospb.FlagList(m.flagValues())
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (m *Master) flagValues() map[string]string {
	if m.cfg.Flags != nil {
		return m.cfg.Flags()
	}
	return map[string]string{}
}
