package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer/fake"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

var _ Containerizer = (*fake.Containerizer)(nil)

func customExecutorTask(id, execID, script string) *mesospb.TaskInfo {
	t := commandTask(id, "cpus:0.1;mem:16")
	t.Command = nil
	t.Executor = &mesospb.ExecutorInfo{
		ExecutorId: &mesospb.ExecutorID{Value: proto.String(execID)},
		Command:    &mesospb.CommandInfo{Value: proto.String(script)},
		Resources:  resources.MustParse("cpus:0.1;mem:32").ToProto(""),
	}
	return t
}

// TestWithFakeContainerizer runs real child processes through
// containerizer/fake: a custom executor's command, its output in the
// sandbox, and its exit turned into task updates.
func TestWithFakeContainerizer(t *testing.T) {
	m := newFakeMaster(t)
	ctr := fake.New()
	cfg := testConfig(t, m)
	cfg.ExecutorShutdownGracePeriod = 100 * time.Millisecond
	a, err := New(cfg, testLogger(), WithContainerizer(ctr))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.register(t, "m1-S1")

	// An executor that exits at once, before subscribing.
	ta.run(t, customExecutorTask("t1", "e1", "echo hello from $MESOS_EXECUTOR_ID; exit 3"))
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED || !strings.Contains(u.GetStatus().GetMessage(), "status 3") {
		t.Fatalf("status %v", u.GetStatus())
	}
	out, err := os.ReadFile(filepath.Join(cfg.WorkDir, "slaves/m1-S1/frameworks/fw1/executors/e1/runs/latest/stdout"))
	if err != nil || string(out) != "hello from e1\n" {
		t.Fatalf("stdout %q, %v", out, err)
	}
	ta.ack(t, u)

	// An executor that stays: the test speaks for it; two tasks share it.
	ta.run(t, customExecutorTask("t2", "e2", "sleep 30"))
	ex := ta.executor(t, "fw1", "e2")
	ex.subscribe()
	ex.expect(executorpb.Event_SUBSCRIBED)
	ex.expect(executorpb.Event_LAUNCH)
	ta.run(t, customExecutorTask("t3", "e2", "ignored: the executor runs already"))
	if ev := ex.expect(executorpb.Event_LAUNCH); ev.GetLaunch().GetTask().GetTaskId().GetValue() != "t3" {
		t.Fatalf("launch %v", ev)
	}
	ta.post(t, "/internal/v1/shutdown_framework", &internalpb.ShutdownFramework{FrameworkId: fwInfo().GetId()})
	ex.expect(executorpb.Event_SHUTDOWN)
	// The executor ignores SHUTDOWN; after the grace period the container
	// is destroyed and both tasks fail.
	got := map[string]mesospb.TaskState{}
	for len(got) < 2 {
		u := ta.master.next(t)
		got[u.GetStatus().GetTaskId().GetValue()] = u.GetStatus().GetState()
	}
	if got["t2"] != mesospb.TaskState_TASK_FAILED || got["t3"] != mesospb.TaskState_TASK_FAILED {
		t.Fatalf("updates %v", got)
	}
	eventually(t, "framework forgotten", func() bool { return len(ta.state(t).GetFrameworks()) == 0 })
	if ids, _ := ctr.Containers(); len(ids) != 0 {
		t.Fatalf("containers left: %v", ids)
	}
}

func TestMonitorStatistics(t *testing.T) {
	m := newFakeMaster(t)
	ctr := fake.New()
	a, err := New(testConfig(t, m), testLogger(), WithContainerizer(ctr))
	if err != nil {
		t.Fatal(err)
	}
	ta := runAgent(t, a, m)
	ta.register(t, "m1-S1")
	ta.run(t, customExecutorTask("t1", "e1", "sleep 30"))
	var body string
	eventually(t, "container in /monitor/statistics", func() bool {
		var code int
		code, body = ta.raw(t, rawCase{method: "GET", path: "/monitor/statistics"})
		return code == 200 && strings.Contains(body, `"executor_id":"e1"`)
	})
	for _, want := range []string{`"framework_id":"fw1"`, `"source":"t1"`, `"cpus_limit":0.2`, `"processes":`, `"timestamp":`} {
		if !strings.Contains(body, want) {
			t.Fatalf("statistics lack %s: %s", want, body)
		}
	}
	if strings.Contains(body, `"mem_rss_bytes":0`) {
		t.Fatalf("no memory measured: %s", body)
	}
}
