package compat

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/agent"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer/fake"
	"google.golang.org/protobuf/proto"
)

// realAgent is Cairn's agent, in process, on containerizer/fake: its
// "containers" are plain child processes (no privileges needed), so
// executors run for real and speak the executor API over HTTP.
type realAgent struct {
	a    *agent.Agent
	base string // http://127.0.0.1:port
	addr string
	id   string
}

// startRealAgent runs an agent against c's master and waits until the
// master admitted it.
func startRealAgent(t *testing.T, c *cluster) *realAgent {
	t.Helper()
	a, err := agent.New(agent.Config{
		Master: c.addr, IP: "127.0.0.1", Hostname: "compat-agent", WorkDir: t.TempDir(),
		Resources: "cpus:4;mem:4096;disk:10000;ports:[31000-32000]", UsageSource: "cgroups",
		ExecutorBinary: "/bin/true", ExecutorShutdownGracePeriod: 2 * time.Second,
		StatusUpdateRetryMin: 200 * time.Millisecond, StatusUpdateRetryMax: time.Second,
		MasterCheckInterval: 100 * time.Millisecond, AvailabilityDebounce: 10 * time.Millisecond,
	}, slog.New(slog.DiscardHandler), agent.WithContainerizer(fake.New()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		a.KillAllOnStop()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("agent did not start: %v", err)
	}
	ra := &realAgent{a: a, addr: a.Addr().String()}
	ra.base = "http://" + ra.addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		body, _ := proto.Marshal(&agentpb.Call{Type: agentpb.Call_GET_AGENT.Enum()})
		if r := post(t, ra.base+"/api/v1", ctProto, ctProto, "", body); r.status == 200 {
			resp := &agentpb.Response{}
			if proto.Unmarshal(r.body, resp) == nil && resp.GetGetAgent().GetAgentInfo().GetId().GetValue() != "" {
				ra.id = resp.GetGetAgent().GetAgentInfo().GetId().GetValue()
				return ra
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("agent not admitted by the master")
	return nil
}

var (
	executorOnce sync.Once
	executorBin  string
	executorErr  error
)

// buildExecutor builds the custom executor (test/compat/executor) once per
// test binary.
func buildExecutor(t *testing.T) string {
	t.Helper()
	executorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-compat-executor")
		if err != nil {
			executorErr = err
			return
		}
		executorBin = filepath.Join(dir, "compat-executor")
		out, err := exec.Command("go", "build", "-o", executorBin, "./executor").CombinedOutput()
		if err != nil {
			executorErr = &buildError{out: string(out), err: err}
		}
	})
	if executorErr != nil {
		t.Fatalf("build the custom executor: %v", executorErr)
	}
	return executorBin
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// customExecutor is the ExecutorInfo of the test executor, fetched into the
// sandbox from a file:// URI (executable) and run from there.
func customExecutor(id, bin string) *mesospb.ExecutorInfo {
	return &mesospb.ExecutorInfo{
		Type:       mesospb.ExecutorInfo_CUSTOM.Enum(),
		ExecutorId: &mesospb.ExecutorID{Value: proto.String(id)},
		Name:       proto.String("compat executor " + id),
		Command: &mesospb.CommandInfo{
			Value: proto.String("./compat-executor"),
			Uris:  []*mesospb.CommandInfo_URI{{Value: proto.String("file://" + bin), Executable: proto.Bool(true), Extract: proto.Bool(false)}},
		},
		Resources: []*mesospb.Resource{scalar("cpus", 0.1), scalar("mem", 32)},
	}
}

// executorTask is a task of a custom executor; data "wait" keeps it
// running until killed.
func executorTask(id string, agentID *mesospb.AgentID, ex *mesospb.ExecutorInfo, data string) *mesospb.TaskInfo {
	t := &mesospb.TaskInfo{Name: proto.String(id), TaskId: &mesospb.TaskID{Value: proto.String(id)}, AgentId: agentID,
		Resources: []*mesospb.Resource{scalar("cpus", 0.1), scalar("mem", 16)}, Executor: ex}
	if data != "" {
		t.Data = []byte(data)
	}
	return t
}
