package agent

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// operatorAPI serves the agent's operator API (POST /api/v1). Queries
// answer 200 with a Response whose type is the call's; SET_LOGGING_LEVEL
// answers 200 with no body; calls about nested or standalone containers,
// resource providers and images answer 501 naming the call.
func (a *Agent) operatorAPI(w http.ResponseWriter, r *http.Request) {
	call := &agentpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	if err := checkAgentCall(call); err != nil {
		endpoint.Error(w, err)
		return
	}
	resp, err := a.operatorCall(r, call)
	switch {
	case err != nil:
		endpoint.Error(w, err)
	case resp == nil:
		w.WriteHeader(http.StatusOK)
	default:
		if rt, ok := agentpb.Response_Type_value[call.GetType().String()]; ok {
			resp.Type = agentpb.Response_Type(rt).Enum()
		}
		endpoint.Reply(w, codec, http.StatusOK, resp)
	}
}

// checkAgentCall applies Mesos's validation: a type, and the union member
// the type needs, each missing one named.
func checkAgentCall(call *agentpb.Call) error {
	need := func(field string, ok bool) error {
		if ok {
			return nil
		}
		return badRequest("Expecting '%s' to be present", field)
	}
	switch call.GetType() {
	case agentpb.Call_UNKNOWN:
		return badRequest("Expecting 'type' to be present")
	case agentpb.Call_SET_LOGGING_LEVEL:
		return need("set_logging_level", call.SetLoggingLevel != nil)
	case agentpb.Call_LIST_FILES:
		return need("list_files", call.ListFiles != nil)
	case agentpb.Call_READ_FILE:
		return need("read_file", call.ReadFile != nil)
	}
	return nil
}

// operatorCall performs one call; a nil response with a nil error is an
// empty 200.
func (a *Agent) operatorCall(r *http.Request, call *agentpb.Call) (*agentpb.Response, error) {
	resp := &agentpb.Response{}
	view := func(fn func(*state)) (*agentpb.Response, error) {
		if err := a.do(r.Context(), fn); err != nil {
			return nil, &api.HTTPError{Status: http.StatusServiceUnavailable, Msg: err.Error()}
		}
		return resp, nil
	}
	switch call.GetType() {
	case agentpb.Call_GET_HEALTH:
		resp.GetHealth = &agentpb.Response_GetHealth{Healthy: proto.Bool(true)}
	case agentpb.Call_GET_VERSION:
		resp.GetVersion = &agentpb.Response_GetVersion{VersionInfo: &mesospb.VersionInfo{Version: proto.String(Version)}}
	case agentpb.Call_GET_FLAGS:
		resp.GetFlags = &agentpb.Response_GetFlags{Flags: a.flagList()}
	case agentpb.Call_GET_METRICS:
		ctx := r.Context()
		if ns := call.GetGetMetrics().GetTimeout().GetNanoseconds(); ns > 0 {
			// Mesos: past the timeout some metrics may be missing; here
			// the loop's ones are.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(ns))
			defer cancel()
		}
		resp.GetMetrics = &agentpb.Response_GetMetrics{Metrics: mesospb.MetricList(a.metrics(ctx))}
	case agentpb.Call_GET_LOGGING_LEVEL:
		resp.GetLoggingLevel = &agentpb.Response_GetLoggingLevel{Level: proto.Uint32(a.cfg.logLevel.Get())}
	case agentpb.Call_SET_LOGGING_LEVEL:
		sl := call.GetSetLoggingLevel()
		a.cfg.logLevel.Set(sl.GetLevel(), time.Duration(sl.GetDuration().GetNanoseconds()))
		a.log.Info("logging level set", "level", sl.GetLevel(), "duration", time.Duration(sl.GetDuration().GetNanoseconds()).String())
		return nil, nil
	case agentpb.Call_LIST_FILES:
		infos, err := a.listFiles(call.GetListFiles().GetPath())
		if err != nil {
			return nil, err
		}
		resp.ListFiles = &agentpb.Response_ListFiles{FileInfos: infos}
	case agentpb.Call_READ_FILE:
		rf := call.GetReadFile()
		length := int64(-1)
		if rf.Length != nil {
			length = int64(min(rf.GetLength(), 1<<62))
		}
		size, data, err := a.readFile(rf.GetPath(), int64(min(rf.GetOffset(), 1<<62)), length)
		if err != nil {
			return nil, err
		}
		resp.ReadFile = &agentpb.Response_ReadFile{Size: proto.Uint64(uint64(size)), Data: data}
	case agentpb.Call_GET_STATE:
		return view(func(st *state) {
			resp.GetState = &agentpb.Response_GetState{
				GetTasks:      a.viewTasks(st),
				GetExecutors:  a.viewExecutors(st),
				GetFrameworks: a.viewFrameworks(st),
			}
		})
	case agentpb.Call_GET_FRAMEWORKS:
		return view(func(st *state) { resp.GetFrameworks = a.viewFrameworks(st) })
	case agentpb.Call_GET_EXECUTORS:
		return view(func(st *state) { resp.GetExecutors = a.viewExecutors(st) })
	case agentpb.Call_GET_TASKS:
		return view(func(st *state) { resp.GetTasks = a.viewTasks(st) })
	case agentpb.Call_GET_AGENT:
		return view(func(st *state) { resp.GetAgent = &agentpb.Response_GetAgent{AgentInfo: a.agentInfo(st.agentID)} })
	case agentpb.Call_GET_CONTAINERS:
		cs, err := a.containerStatuses(r.Context())
		if err != nil {
			return nil, &api.HTTPError{Status: http.StatusServiceUnavailable, Msg: "GET_CONTAINERS: " + err.Error()}
		}
		resp.GetContainers = &agentpb.Response_GetContainers{Containers: cs}
	case agentpb.Call_GET_OPERATIONS:
		// Cairn's agent applies no offer operations of its own (no
		// resource providers): the list is always empty.
		resp.GetOperations = &agentpb.Response_GetOperations{}
	default:
		return nil, notImplemented(call.GetType())
	}
	return resp, nil
}

// notImplemented answers the calls Cairn's agent does not serve: nested
// and standalone containers, container attach, resource providers, image
// pruning.
func notImplemented(t agentpb.Call_Type) error {
	why := "not supported by Cairn's agent"
	switch t {
	case agentpb.Call_LAUNCH_NESTED_CONTAINER, agentpb.Call_WAIT_NESTED_CONTAINER, agentpb.Call_KILL_NESTED_CONTAINER,
		agentpb.Call_REMOVE_NESTED_CONTAINER, agentpb.Call_LAUNCH_NESTED_CONTAINER_SESSION,
		agentpb.Call_LAUNCH_CONTAINER, agentpb.Call_WAIT_CONTAINER, agentpb.Call_KILL_CONTAINER, agentpb.Call_REMOVE_CONTAINER:
		why = "Cairn's agent runs no nested or standalone containers"
	case agentpb.Call_ATTACH_CONTAINER_INPUT, agentpb.Call_ATTACH_CONTAINER_OUTPUT:
		why = "Cairn's containers have no I/O switchboard to attach to"
	case agentpb.Call_GET_RESOURCE_PROVIDERS, agentpb.Call_ADD_RESOURCE_PROVIDER_CONFIG,
		agentpb.Call_UPDATE_RESOURCE_PROVIDER_CONFIG, agentpb.Call_REMOVE_RESOURCE_PROVIDER_CONFIG,
		agentpb.Call_MARK_RESOURCE_PROVIDER_GONE:
		why = "Cairn's agent has no resource providers"
	case agentpb.Call_PRUNE_IMAGES:
		why = "Cairn's agent keeps no image store"
	}
	return &api.HTTPError{Status: http.StatusNotImplemented, Msg: fmt.Sprintf("Agent operator call %s is not implemented: %s", t, why)}
}
