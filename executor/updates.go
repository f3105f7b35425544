package executor

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"time"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
)

// acknowledged forgets an update the agent has stored.
func (e *Executor) acknowledged(a *executorpb.Event_Acknowledged) {
	if t := e.find(a.GetTaskId().GetValue()); t != nil {
		t.acked = true
	}
	e.forget(a.GetUuid())
}

// forget drops an update from the unacknowledged list; once the tasks are
// over (or there were none and the executor is shutting down) and nothing
// is pending the executor is done.
func (e *Executor) forget(uuid []byte) {
	for i, u := range e.unacked {
		if bytes.Equal(u.GetStatus().GetUuid(), uuid) {
			e.unacked = append(e.unacked[:i], e.unacked[i+1:]...)
			break
		}
	}
	if len(e.unacked) == 0 && !e.live() && (len(e.tasks) > 0 || e.shutdown) {
		e.done = true
	}
}

// update builds a status update with a fresh uuid, remembers it until the
// agent acknowledges it, and sends it if connected.
func (e *Executor) update(ctx context.Context, id *mesospb.TaskID, state mesospb.TaskState, msg string, reason *mesospb.TaskStatus_Reason) {
	now := float64(time.Now().UnixNano()) / 1e9
	st := &mesospb.TaskStatus{
		TaskId:     id,
		State:      state.Enum(),
		Source:     mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
		Reason:     reason,
		ExecutorId: e.executorID,
		Timestamp:  &now,
		Uuid:       newUUID(),
	}
	if msg != "" {
		st.Message = &msg
	}
	if state == mesospb.TaskState_TASK_RUNNING {
		pid := uint32(os.Getpid())
		st.ContainerStatus = &mesospb.ContainerStatus{ExecutorPid: &pid}
	}
	u := &executorpb.Call_Update{Status: st}
	e.unacked = append(e.unacked, u)
	if e.connected {
		e.post(ctx, u)
	}
}

func hasCapability(fw *mesospb.FrameworkInfo, c mesospb.FrameworkInfo_Capability_Type) bool {
	for _, cap := range fw.GetCapabilities() {
		if cap.GetType() == c {
			return true
		}
	}
	return false
}

// newUUID is a random (version 4) UUID in its 16-byte wire form.
func newUUID() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // never happens on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}
