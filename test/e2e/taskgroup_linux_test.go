package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestTaskGroup launches task groups with the default executor from a
// framework spoken over raw HTTP: every task of a group runs in its own
// sandbox under the executor's (tasks/<task_id>), and a failing task takes
// its group down.
func TestTaskGroup(t *testing.T) {
	e := newEnv(t, 2)
	e.startMaster(0)
	masterAddr := e.c.Node(0).Addr(5050)
	e.startAgent("agent", 1, masterAddr)
	e.waitAgents(0, 1)
	s := subscribeRaw(t, masterAddr)
	agentURL := "http://" + e.c.Node(1).Addr(5051)

	sandbox := func(st *mesospb.TaskStatus, execID string) string {
		return filepath.Join(e.dir, "agent", "slaves", st.GetAgentId().GetValue(), "frameworks", s.fid,
			"executors", execID, "runs", "latest")
	}

	t.Run("all finish", func(t *testing.T) {
		s := s.with(t)
		o := s.offer()
		var tasks []*mesospb.TaskInfo
		for i := range 3 {
			id := fmt.Sprintf("tg-ok-%d", i)
			tasks = append(tasks, commandTask(id, o, 0.1, 16, `echo $MESOS_TASK_ID > out; echo "out of $MESOS_TASK_ID"; exit 0`))
		}
		launchGroup(s, o, defaultExecutor("pod-ok", o), tasks...)
		var last *mesospb.TaskStatus
		for _, task := range tasks {
			last = s.update(task.GetTaskId().GetValue(), mesospb.TaskState_TASK_FINISHED)
		}
		dir := sandbox(last, "pod-ok")
		for _, task := range tasks {
			id := task.GetTaskId().GetValue()
			stdout, err := os.ReadFile(filepath.Join(dir, "tasks", id, "stdout"))
			if err != nil || string(stdout) != "out of "+id+"\n" {
				t.Errorf("task %s stdout %q, %v", id, stdout, err)
			}
			out, err := os.ReadFile(filepath.Join(dir, "tasks", id, "out"))
			if err != nil || string(out) != id+"\n" {
				t.Errorf("task %s wrote %q into its sandbox, %v", id, out, err)
			}
		}
		// The agent releases the executor once its container ended and the
		// framework acknowledged every terminal update.
		awaitReleased(t, agentURL, "pod-ok")
	})

	t.Run("one fails", func(t *testing.T) {
		s := s.with(t)
		o := s.offer()
		sleeper := commandTask("tg-bad-sleeper", o, 0.1, 16, "touch ready; exec sleep 600")
		failer := commandTask("tg-bad-failer", o, 0.1, 16,
			"while [ ! -e ../tg-bad-sleeper/ready ]; do sleep 0.05; done; echo giving up >&2; exit 1")
		launchGroup(s, o, defaultExecutor("pod-bad", o), sleeper, failer)
		st := s.update("tg-bad-failer", mesospb.TaskState_TASK_FAILED)
		if !strings.Contains(st.GetMessage(), "status 1") {
			t.Errorf("failer: %s %q, want exit status 1", st.GetState(), st.GetMessage())
		}
		s.update("tg-bad-sleeper", mesospb.TaskState_TASK_KILLED)
		if b, err := os.ReadFile(filepath.Join(sandbox(st, "pod-bad"), "tasks", "tg-bad-failer", "stderr")); err != nil || string(b) != "giving up\n" {
			t.Errorf("failer stderr %q, %v", b, err)
		}
		awaitReleased(t, agentURL, "pod-bad")
	})
}

// defaultExecutor is a DEFAULT ExecutorInfo with its own small resources,
// which Mesos requires of a task group's executor.
func defaultExecutor(id string, o *mesospb.Offer) *mesospb.ExecutorInfo {
	res := commandTask("", o, 0.1, 32, "").GetResources()
	return &mesospb.ExecutorInfo{
		Type:       mesospb.ExecutorInfo_DEFAULT.Enum(),
		ExecutorId: &mesospb.ExecutorID{Value: proto.String(id)},
		Resources:  res,
	}
}

// launchGroup accepts the offer with one LAUNCH_GROUP.
func launchGroup(s *rawScheduler, o *mesospb.Offer, exec *mesospb.ExecutorInfo, tasks ...*mesospb.TaskInfo) {
	s.t.Helper()
	code, msg := s.call(&schedulerpb.Call{Type: schedulerpb.Call_ACCEPT.Enum(), Accept: &schedulerpb.Call_Accept{
		OfferIds: []*mesospb.OfferID{o.GetId()},
		Operations: []*mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_LAUNCH_GROUP.Enum(),
			LaunchGroup: &mesospb.Offer_Operation_LaunchGroup{Executor: exec, TaskGroup: &mesospb.TaskGroupInfo{Tasks: tasks}}}},
		Filters: refuse(0),
	}})
	if code != http.StatusAccepted {
		s.t.Fatalf("accept: %d %s", code, msg)
	}
}

// awaitReleased waits until the agent's /containers no longer lists the
// executor's container.
func awaitReleased(t *testing.T, agentURL, execID string) {
	t.Helper()
	cluster.Eventually(t, startTimeout, func() error {
		res, err := cluster.HTTPClient().Get(agentURL + "/containers")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var cs []struct {
			ExecutorID string `json:"executor_id"`
		}
		if err := json.NewDecoder(res.Body).Decode(&cs); err != nil {
			return err
		}
		for _, c := range cs {
			if c.ExecutorID == execID {
				return fmt.Errorf("executor %s still has its container", execID)
			}
		}
		return nil
	})
}
