// Command executor is a custom Mesos executor written for Cairn's
// conformance suite from the Mesos executor HTTP API documentation alone:
// raw HTTP with the protobuf codec (generated wire types only, RecordIO
// read by hand), no Cairn client code.
//
// Behaviour: it SUBSCRIBEs to $MESOS_AGENT_ENDPOINT for $MESOS_FRAMEWORK_ID
// and $MESOS_EXECUTOR_ID. Each LAUNCHed task gets TASK_RUNNING and then
// TASK_FINISHED, unless its data is "wait", which runs until a KILL
// (TASK_KILLED). A MESSAGE is answered with a MESSAGE "echo:<data>".
// SHUTDOWN kills the remaining tasks (TASK_KILLED) and exits 0 once their
// updates are acknowledged (or after a second); an ERROR event or the end
// of the stream exits 2. Every update carries a fresh uuid and is resent
// in the next SUBSCRIBE's unacknowledged_updates if the stream breaks.
//
// One goroutine reads the stream; each call is its own POST.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

const ctProto = "application/x-protobuf"

type executor struct {
	url         string
	frameworkID *mesospb.FrameworkID
	executorID  *mesospb.ExecutorID

	mu      sync.Mutex
	live    map[string]*mesospb.TaskInfo // launched, not terminal
	unacked map[string]*executorpb.Call_Update
	kill    map[string]chan struct{}
}

func main() {
	e := &executor{
		url:         "http://" + os.Getenv("MESOS_AGENT_ENDPOINT") + "/api/v1/executor",
		frameworkID: &mesospb.FrameworkID{Value: proto.String(os.Getenv("MESOS_FRAMEWORK_ID"))},
		executorID:  &mesospb.ExecutorID{Value: proto.String(os.Getenv("MESOS_EXECUTOR_ID"))},
		live:        map[string]*mesospb.TaskInfo{},
		unacked:     map[string]*executorpb.Call_Update{},
		kill:        map[string]chan struct{}{},
	}
	if err := e.run(); err != nil {
		fmt.Fprintln(os.Stderr, "executor:", err)
		os.Exit(2)
	}
}

func (e *executor) post(c *executorpb.Call) (*http.Response, error) {
	c.FrameworkId, c.ExecutorId = e.frameworkID, e.executorID
	body, err := proto.Marshal(c)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctProto)
	req.Header.Set("Accept", ctProto)
	return http.DefaultClient.Do(req)
}

func (e *executor) run() error {
	res, err := e.post(&executorpb.Call{Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: &executorpb.Call_Subscribe{}})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("subscribe: %d %s", res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != ctProto {
		return fmt.Errorf("subscribe: Content-Type %q", ct)
	}
	r := bufio.NewReader(res.Body)
	for {
		rec, err := readRecord(r)
		if err != nil {
			return fmt.Errorf("read event: %w", err)
		}
		ev := &executorpb.Event{}
		if err := proto.Unmarshal(rec, ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		switch ev.GetType() {
		case executorpb.Event_SUBSCRIBED:
			s := ev.GetSubscribed()
			if s.GetContainerId().GetValue() == "" || s.GetAgentInfo().GetHostname() == "" ||
				s.GetExecutorInfo().GetExecutorId().GetValue() != e.executorID.GetValue() {
				return fmt.Errorf("SUBSCRIBED lacks fields: %v", s)
			}
		case executorpb.Event_LAUNCH:
			go e.runTask(ev.GetLaunch().GetTask())
		case executorpb.Event_KILL:
			e.mu.Lock()
			if ch := e.kill[ev.GetKill().GetTaskId().GetValue()]; ch != nil {
				close(ch)
				delete(e.kill, ev.GetKill().GetTaskId().GetValue())
			}
			e.mu.Unlock()
		case executorpb.Event_ACKNOWLEDGED:
			e.mu.Lock()
			delete(e.unacked, string(ev.GetAcknowledged().GetUuid()))
			e.mu.Unlock()
		case executorpb.Event_MESSAGE:
			data := append([]byte("echo:"), ev.GetMessage().GetData()...)
			if res, err := e.post(&executorpb.Call{Type: executorpb.Call_MESSAGE.Enum(),
				Message: &executorpb.Call_Message{Data: data}}); err == nil {
				res.Body.Close()
			}
		case executorpb.Event_SHUTDOWN:
			// Keep reading: the kills' acknowledgements come on the stream.
			go func() { e.shutdown(); os.Exit(0) }()
		case executorpb.Event_ERROR:
			return fmt.Errorf("ERROR event: %s", ev.GetError().GetMessage())
		}
	}
}

// readRecord reads one RecordIO record: "<decimal length>\n<bytes>".
func readRecord(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("record length %q", line)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

func (e *executor) runTask(t *mesospb.TaskInfo) {
	id := t.GetTaskId().GetValue()
	kill := make(chan struct{})
	e.mu.Lock()
	e.live[id], e.kill[id] = t, kill
	e.mu.Unlock()
	e.update(t, mesospb.TaskState_TASK_RUNNING)
	final := mesospb.TaskState_TASK_FINISHED
	if string(t.GetData()) == "wait" {
		<-kill
		final = mesospb.TaskState_TASK_KILLED
	} else {
		select {
		case <-kill:
			final = mesospb.TaskState_TASK_KILLED
		case <-time.After(50 * time.Millisecond):
		}
	}
	e.mu.Lock()
	delete(e.live, id)
	delete(e.kill, id)
	e.mu.Unlock()
	e.update(t, final)
}

// update sends one status update with a fresh uuid; it stays unacknowledged
// until the agent's ACKNOWLEDGED.
func (e *executor) update(t *mesospb.TaskInfo, state mesospb.TaskState) {
	uuid := make([]byte, 16)
	rand.Read(uuid)
	u := &executorpb.Call_Update{Status: &mesospb.TaskStatus{
		TaskId: t.GetTaskId(), State: state.Enum(), Source: mesospb.TaskStatus_SOURCE_EXECUTOR.Enum(),
		ExecutorId: e.executorID, Uuid: uuid, Timestamp: proto.Float64(float64(time.Now().UnixNano()) / 1e9),
	}}
	e.mu.Lock()
	e.unacked[string(uuid)] = u
	e.mu.Unlock()
	res, err := e.post(&executorpb.Call{Type: executorpb.Call_UPDATE.Enum(), Update: u})
	if err != nil {
		fmt.Fprintln(os.Stderr, "update:", err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		fmt.Fprintln(os.Stderr, "update answered", res.StatusCode)
	}
}

// shutdown kills what still runs and waits (a second at most) for every
// update to be acknowledged.
func (e *executor) shutdown() {
	e.mu.Lock()
	for id, ch := range e.kill {
		close(ch)
		delete(e.kill, id)
	}
	e.mu.Unlock()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		n := len(e.unacked) + len(e.live)
		e.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
