package agent

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// streamBuffer is how many events may wait for a slow executor before its
// stream is cut (it re-subscribes).
const streamBuffer = 256

// executorAPI serves POST /api/v1/executor.
func (a *Agent) executorAPI(w http.ResponseWriter, r *http.Request) {
	call := &executorpb.Call{}
	codec, err := endpoint.Decode(r, call)
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	fwID := ids.FrameworkID(call.GetFrameworkId().GetValue())
	execID := ids.ExecutorID(call.GetExecutorId().GetValue())
	if fwID == "" || execID == "" {
		endpoint.Errorf(w, http.StatusBadRequest, "executor_id and framework_id must be set")
		return
	}
	switch call.GetType() {
	case executorpb.Call_SUBSCRIBE:
		if call.Subscribe == nil {
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting 'subscribe' to be present")
			return
		}
		a.subscribe(w, r, codec, fwID, execID, call.Subscribe)
	case executorpb.Call_UPDATE:
		if call.Update == nil || call.Update.Status == nil {
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting 'update' to be present")
			return
		}
		if err := a.executorUpdate(r, fwID, execID, call.Update.Status); err != nil {
			endpoint.Error(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case executorpb.Call_MESSAGE:
		if call.Message == nil {
			endpoint.Errorf(w, http.StatusBadRequest, "Expecting 'message' to be present")
			return
		}
		if err := a.executorMessage(r, fwID, execID, call.Message.GetData()); err != nil {
			endpoint.Error(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case executorpb.Call_HEARTBEAT:
		w.WriteHeader(http.StatusAccepted)
	default:
		endpoint.Errorf(w, http.StatusBadRequest, "Unsupported executor call type %s", call.GetType())
	}
}

// subscribe opens the executor's event stream, replacing an older one, and
// writes events until the stream ends.
//
// A re-subscribing executor (after an agent restart, or a broken stream)
// lists the tasks it has and the updates the agent never acknowledged: the
// tasks are not sent again, the updates are taken as if sent with UPDATE
// (duplicates of checkpointed ones are recognised by uuid).
func (a *Agent) subscribe(w http.ResponseWriter, r *http.Request, codec api.Codec, fwID ids.FrameworkID, execID ids.ExecutorID, sub *executorpb.Call_Subscribe) {
	es := &execStream{events: make(chan *executorpb.Event, streamBuffer), closed: make(chan struct{})}
	var known []ids.TaskID
	for _, t := range sub.GetUnacknowledgedTasks() {
		known = append(known, ids.TaskID(t.GetTaskId().GetValue()))
	}
	var herr error
	err := a.do(r.Context(), func(st *state) {
		fw, e := st.findExecutor(fwID, execID)
		if e == nil {
			herr = badRequest("Executor %s of framework %s is unknown", execID, fwID)
			return
		}
		if e.exited {
			herr = badRequest("Executor %s has terminated", execID)
			return
		}
		if e.stream != nil {
			e.stream.close()
		}
		e.stream = es
		es.send(&executorpb.Event{
			Type: executorpb.Event_SUBSCRIBED.Enum(),
			Subscribed: &executorpb.Event_Subscribed{
				ExecutorInfo:  e.info,
				FrameworkInfo: fw.info,
				AgentInfo:     a.agentInfo(st.agentID),
				ContainerId:   &mesospb.ContainerID{Value: proto.String(string(e.container))},
			},
		})
		a.log.Info("executor subscribed", "framework_id", fwID, "executor_id", execID, "phase", e.core.Phase().String(),
			"unacknowledged_tasks", len(known), "unacknowledged_updates", len(sub.GetUnacknowledgedUpdates()))
		a.apply(st, fw, e, e.core.Subscribed(known...))
	})
	if err == nil {
		err = herr
	}
	if err != nil {
		endpoint.Error(w, err)
		return
	}
	for _, u := range sub.GetUnacknowledgedUpdates() {
		if err := a.executorUpdate(r, fwID, execID, u.GetStatus()); err != nil {
			a.log.Info("unacknowledged update of a re-subscribing executor refused", "executor_id", execID,
				"task_id", u.GetStatus().GetTaskId().GetValue(), "err", err)
		}
	}
	defer func() {
		// Closed on the loop, like every other close of a stream: a close
		// here racing the loop's (a newer SUBSCRIBE) closed the channel
		// twice and crashed the agent (found by FuzzExecutorCall).
		a.post(func(st *state) {
			es.close()
			if _, e := st.findExecutor(fwID, execID); e != nil && e.stream == es {
				e.stream = nil
				a.log.Info("executor disconnected", "framework_id", fwID, "executor_id", execID)
			}
		})
	}()
	s, err := endpoint.OpenStream(w, codec, nil)
	if err != nil {
		a.log.Warn("open executor stream", "executor_id", execID, "err", err)
		return
	}
	defer s.Close()
	for {
		select {
		case ev := <-es.events:
			if err := s.Send(ev); err != nil {
				return
			}
		case <-es.closed:
			// Deliver what was queued before the close (e.g. SHUTDOWN).
			for {
				select {
				case ev := <-es.events:
					if s.Send(ev) != nil {
						return
					}
				default:
					return
				}
			}
		case <-s.Done():
			return
		case <-r.Context().Done():
			return
		}
	}
}

// executorUpdate takes an UPDATE: validate, rewrite an OOM-killed task's
// terminal update, store it reliably, acknowledge it on the stream.
func (a *Agent) executorUpdate(r *http.Request, fwID ids.FrameworkID, execID ids.ExecutorID, status *mesospb.TaskStatus) error {
	if len(status.GetUuid()) != 16 {
		return badRequest("Status update must carry a 16-byte 'uuid', got %d bytes", len(status.GetUuid()))
	}
	if status.ExecutorId != nil && status.GetExecutorId().GetValue() != string(execID) {
		return badRequest("Status update's executor_id %q does not match the call's %q", status.GetExecutorId().GetValue(), execID)
	}
	if status.GetState() == mesospb.TaskState_TASK_STAGING {
		return badRequest("Executors may not send TASK_STAGING")
	}
	tid := ids.TaskID(status.GetTaskId().GetValue())
	var container ids.ContainerID
	var memLimit string
	var herr error
	if err := a.do(r.Context(), func(st *state) {
		_, e := st.findExecutor(fwID, execID)
		switch {
		case e == nil:
			herr = badRequest("Executor %s of framework %s is unknown", execID, fwID)
		case e.core.Task(tid) == nil:
			herr = badRequest("Task %s is unknown to executor %s", tid, execID)
		default:
			container, memLimit = e.container, e.memLimit
		}
	}); err != nil {
		return err
	}
	if herr != nil {
		return herr
	}
	status = proto.Clone(status).(*mesospb.TaskStatus)
	status.ExecutorId = &mesospb.ExecutorID{Value: proto.String(string(execID))}
	if status.Source == nil {
		status.Source = mesospb.TaskStatus_SOURCE_EXECUTOR.Enum()
	}
	if statusupdate.Terminal(status.GetState()) {
		// The kernel counts an OOM kill before the victim dies, so by the
		// time the executor reports the task's end the count is there.
		if n, err := a.oomKills(container); err == nil && n > 0 {
			status.State = mesospb.TaskState_TASK_FAILED.Enum()
			status.Source = mesospb.TaskStatus_SOURCE_AGENT.Enum()
			status.Reason = mesospb.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY.Enum()
			msg := a.oomMessage(container)
			if msg == "" {
				msg = "Memory limit exceeded: " + memLimit
			}
			status.Message = proto.String(msg)
		}
	}
	err := a.do(r.Context(), func(st *state) {
		fw, e := st.findExecutor(fwID, execID)
		if e == nil {
			herr = badRequest("Executor %s of framework %s is unknown", execID, fwID)
			return
		}
		t := e.core.Task(tid)
		key := statusupdate.Key{Framework: fwID, Task: tid}
		if t.Reported && !st.sum.Seen(key, status.GetUuid()) {
			herr = badRequest("Task %s already has a terminal status", tid)
			return
		}
		if !t.Reported {
			dup, err := a.addUpdate(st, fw, execID, status, false)
			if errors.Is(err, errCheckpoint) {
				// Without its checkpoint the update could be lost in a
				// restart after being acknowledged: refuse it, and end the
				// executor so its tasks get a terminal state the agent
				// stands by.
				herr = &api.HTTPError{Status: http.StatusInsufficientStorage, Msg: "Agent could not checkpoint the status update: " + err.Error()}
				a.apply(st, fw, e, e.core.Fail(mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED,
					"Agent could not checkpoint a status update of the executor ("+err.Error()+"); executor killed"))
				return
			}
			if err != nil {
				herr = badRequest("%v", err)
				return
			}
			if !dup {
				if err := e.core.Update(status); err != nil {
					herr = badRequest("%v", err)
					return
				}
			}
		}
		a.sendEvent(e, &executorpb.Event{
			Type:         executorpb.Event_ACKNOWLEDGED.Enum(),
			Acknowledged: &executorpb.Event_Acknowledged{TaskId: status.GetTaskId(), Uuid: bytes.Clone(status.GetUuid())},
		})
	})
	if err != nil {
		return err
	}
	return herr
}

// oomKills reads a container's OOM kill count, with the lean counters when
// the containerizer has them: the full Usage reads some 40 cgroup files on
// every terminal update, and races with a concurrent Destroy.
func (a *Agent) oomKills(c ids.ContainerID) (uint64, error) {
	read := a.ctr.Usage
	if l, ok := a.ctr.(leanCounters); ok {
		read = l.Counters
	}
	u, err := read(c)
	return u.OOMKills, err
}
