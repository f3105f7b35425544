package agent

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func defaultExecutorInfo(id string) *mesospb.ExecutorInfo {
	return &mesospb.ExecutorInfo{
		Type:        mesospb.ExecutorInfo_DEFAULT.Enum(),
		ExecutorId:  &mesospb.ExecutorID{Value: proto.String(id)},
		FrameworkId: fwInfo().GetId(),
		Resources:   resources.MustParse("cpus:0.1;mem:32").ToProto(""),
	}
}

func (ta *testAgent) runGroup(t *testing.T, exec *mesospb.ExecutorInfo, tasks ...*mesospb.TaskInfo) {
	ta.post(t, "/internal/v1/run_tasks", &internalpb.RunTasks{FrameworkInfo: fwInfo(), Tasks: tasks, ExecutorInfo: exec})
}

func groupTaskIDs(ev *executorpb.Event) []string {
	var out []string
	for _, t := range ev.GetLaunchGroup().GetTaskGroup().GetTasks() {
		out = append(out, t.GetTaskId().GetValue())
	}
	return out
}

// A LAUNCH_GROUP with a DEFAULT executor makes one container running
// `cairn executor` as the default executor, sized by the executor's and all
// the tasks' resources; its tasks reach the executor as one LAUNCH_GROUP,
// and a second group for the same executor joins it as another.
func TestTaskGroupDefaultExecutor(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	ta.runGroup(t, defaultExecutorInfo("pod"),
		commandTask("g1", "cpus:0.5;mem:64"), commandTask("g2", "cpus:0.25;mem:128"))

	spec := ta.launched(t)
	if !slices.Equal(spec.Args, []string{"/.cairn/cairn", "executor"}) {
		t.Fatalf("args %v", spec.Args)
	}
	if len(spec.Binds) != 1 || spec.Binds[0].Target != "/.cairn/cairn" {
		t.Fatalf("binds %+v", spec.Binds)
	}
	if got, want := spec.Limits.MemoryBytes, int64((32+64+128)<<20); got != want {
		t.Fatalf("memory limit %d, want %d (executor 32 MB + tasks 64 and 128 MB)", got, want)
	}
	env := strings.Join(spec.Env, "\n") + "\n"
	for _, want := range []string{"CAIRN_EXECUTOR_TYPE=default", "MESOS_EXECUTOR_ID=pod", "MESOS_FRAMEWORK_ID=fw1"} {
		if !strings.Contains(env, want+"\n") {
			t.Fatalf("env lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "CAIRN_TASK_CGROUP") {
		t.Fatalf("a default executor's tasks share the container's limits, env:\n%s", env)
	}

	ex := ta.executor(t, "fw1", "pod")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	if got := groupTaskIDs(ex.expect(executorpb.Event_LAUNCH_GROUP)); !slices.Equal(got, []string{"g1", "g2"}) {
		t.Fatalf("LAUNCH_GROUP tasks %v, want [g1 g2]", got)
	}

	ta.runGroup(t, defaultExecutorInfo("pod"), commandTask("g3", "cpus:0.1;mem:16"))
	if got := groupTaskIDs(ex.expect(executorpb.Event_LAUNCH_GROUP)); !slices.Equal(got, []string{"g3"}) {
		t.Fatalf("second LAUNCH_GROUP tasks %v, want [g3]", got)
	}
	select {
	case s := <-ta.ctr.launched:
		t.Fatalf("second group launched another container %s", s.ID)
	default:
	}
	var inPod []string
	for _, task := range ta.state(t).GetTasks() {
		if task.GetExecutorId().GetValue() == "pod" {
			inPod = append(inPod, task.GetTaskId().GetValue())
		}
	}
	slices.Sort(inPod)
	if !slices.Equal(inPod, []string{"g1", "g2", "g3"}) {
		t.Fatalf("executor pod has tasks %v, want g1 g2 g3", inPod)
	}

	// Updates of a group's tasks go the usual way.
	if code := ex.update("g2", mesospb.TaskState_TASK_RUNNING, uuidN(1)); code != 202 {
		t.Fatalf("update: %d", code)
	}
	expectUpdate(t, ta.master.next(t), "g2", mesospb.TaskState_TASK_RUNNING)
}

// The agent refuses a whole group it cannot run.
func TestTaskGroupRefusedWhole(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	custom := defaultExecutorInfo("pod")
	custom.Type = mesospb.ExecutorInfo_CUSTOM.Enum()
	ta.runGroup(t, custom, commandTask("c1", "cpus:0.1;mem:16"), commandTask("c2", "cpus:0.1;mem:16"))
	for range 2 {
		u := ta.master.next(t)
		if u.GetStatus().GetState() != mesospb.TaskState_TASK_ERROR || u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_TASK_GROUP_INVALID {
			t.Fatalf("update %v, want TASK_ERROR REASON_TASK_GROUP_INVALID", u.GetStatus())
		}
	}
	ta.runGroup(t, defaultExecutorInfo("big"), commandTask("b1", "cpus:1.5;mem:16"), commandTask("b2", "cpus:1;mem:16"))
	for range 2 {
		u := ta.master.next(t)
		if u.GetStatus().GetState() != mesospb.TaskState_TASK_ERROR || !strings.Contains(u.GetStatus().GetMessage(), "more resources") {
			t.Fatalf("update %v, want TASK_ERROR for resources", u.GetStatus())
		}
	}
	select {
	case s := <-ta.ctr.launched:
		t.Fatalf("refused group launched container %s", s.ID)
	default:
	}
}
