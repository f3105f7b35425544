package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"google.golang.org/protobuf/proto"
)

// TestKernelRecoverAcrossRestart runs command tasks of a checkpointing
// framework in real containers with the real command executor, stops the
// agent, and starts a new one (new containerizer, same work, runtime and
// cgroups dirs): the long task's container is the same and its executor
// re-subscribes (a kill reaches it), and the task that finished while no
// agent ran is reported FINISHED with its exit status.
func TestKernelRecoverAcrossRestart(t *testing.T) {
	kerneltest.Root(t)
	root := kerneltest.Name("crec")
	cleanCgroupsRoot(t, root)
	m := newFakeMaster(t)
	cfg := testConfig(t, m)
	cfg.CgroupsRoot = root
	cfg.RuntimeDir = t.TempDir()
	cfg.Strict = true
	cfg.ExecutorReregistrationTimeout = 10 * time.Second
	cfg.StatusUpdateRetryMin, cfg.StatusUpdateRetryMax = time.Minute, time.Minute
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExecutorBinary = exe

	start := func() *testAgent {
		a, err := New(cfg, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		ta := runAgent(t, a, m)
		cfg.Port = int(a.Addr().Port())
		ta.register(t, "m1-S1")
		// Whatever a failed test leaves must not outlive it.
		t.Cleanup(a.KillAllOnStop)
		return ta
	}
	running := func(ta *testAgent, task string) {
		t.Helper()
		for {
			u := ta.master.next(t)
			if u.GetStatus().GetTaskId().GetValue() != task {
				t.Fatalf("update for %s while waiting for %s: %v", u.GetStatus().GetTaskId().GetValue(), task, u.GetStatus())
			}
			ta.ack(t, u)
			if u.GetStatus().GetState() == mesospb.TaskState_TASK_RUNNING {
				return
			}
		}
	}

	a := start()
	sleeper := commandTask("sleeper", "cpus:0.1;mem:32")
	sleeper.Command.Value = proto.String("sleep 600")
	gated := commandTask("gated", "cpus:0.1;mem:32")
	gated.Command.Value = proto.String("while [ ! -e go ]; do sleep 0.05; done; exit 0")
	a.runFor(t, checkpointing(), sleeper)
	running(a, "sleeper")
	a.runFor(t, checkpointing(), gated)
	running(a, "gated")
	before := executorContainers(t, a)
	a.stop()

	// The gated task ends while no agent runs; its executor holds on to
	// the terminal update.
	gatedSandbox := filepath.Join(cfg.WorkDir, "slaves/m1-S1/frameworks/fwc/executors/gated/runs/latest")
	if err := os.WriteFile(filepath.Join(gatedSandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)

	b := start()
	u := b.master.next(t)
	expectUpdate(t, u, "gated", mesospb.TaskState_TASK_FINISHED)
	if !strings.Contains(u.GetStatus().GetMessage(), "status 0") {
		t.Fatalf("finished task's status: %v", u.GetStatus())
	}
	b.ack(t, u)
	if tk := b.task(t, "sleeper"); tk == nil || tk.GetState() != mesospb.TaskState_TASK_RUNNING {
		t.Fatalf("sleeper after recovery: %v", tk)
	}
	if after := executorContainers(t, b); after["sleeper"] != before["sleeper"] || after["sleeper"] == "" {
		t.Fatalf("sleeper's container %q after recovery, was %q", after["sleeper"], before["sleeper"])
	}
	b.post(t, "/internal/v1/kill_task", &internalpb.KillTask{FrameworkId: checkpointing().GetId(), TaskId: sleeper.GetTaskId()})
	u = b.master.next(t)
	expectUpdate(t, u, "sleeper", mesospb.TaskState_TASK_KILLED)
	if u.GetStatus().GetSource() != mesospb.TaskStatus_SOURCE_EXECUTOR {
		t.Fatalf("kill not carried out by the re-subscribed executor: %v", u.GetStatus())
	}
	b.ack(t, u)
	eventually(t, "both executors released", func() bool { return len(b.state(t).GetTasks()) == 0 })
}

// executorContainers maps executor ids to container ids, from /state.
func executorContainers(t *testing.T, ta *testAgent) map[string]string {
	t.Helper()
	code, body := ta.raw(t, rawCase{method: "GET", path: "/state"})
	if code != 200 {
		t.Fatalf("GET /state: %d", code)
	}
	var st struct {
		Frameworks []struct {
			Executors []struct {
				ID        string `json:"id"`
				Container string `json:"container"`
			} `json:"executors"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, fw := range st.Frameworks {
		for _, e := range fw.Executors {
			out[e.ID] = e.Container
		}
	}
	return out
}
