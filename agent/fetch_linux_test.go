package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"google.golang.org/protobuf/proto"
)

// TestKernelFetchedExecutor runs a framework executor fetched from a
// file:// URI in a real container: it is in the sandbox, executable, and
// runs from there (/mnt/mesos/sandbox inside); its exit fails the task
// with REASON_EXECUTOR_TERMINATED and the exit status.
func TestKernelFetchedExecutor(t *testing.T) {
	kerneltest.Root(t)
	src := filepath.Join(t.TempDir(), "tool.sh")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho fetched in $PWD for $MESOS_EXECUTOR_ID\nexit 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, ta := kernelAgent(t, "cfet", nil)

	task := customExecutorTask("t1", "e1", "./tool.sh")
	task.Executor.Command.Uris = []*mesospb.CommandInfo_URI{{Value: proto.String("file://" + src), Executable: proto.Bool(true)}}
	ta.run(t, task)
	u := ta.master.next(t)
	expectUpdate(t, u, "t1", mesospb.TaskState_TASK_FAILED)
	if u.GetStatus().GetReason() != mesospb.TaskStatus_REASON_EXECUTOR_TERMINATED || !strings.Contains(u.GetStatus().GetMessage(), "status 7") {
		t.Fatalf("status %v", u.GetStatus())
	}
	ta.ack(t, u) // the executor is released, its container destroyed
	out, err := os.ReadFile(filepath.Join(a.cfg.WorkDir, "slaves/m1-S1/frameworks/fw1/executors/e1/runs/latest/stdout"))
	if err != nil || string(out) != "fetched in /mnt/mesos/sandbox for e1\n" {
		t.Fatalf("stdout %q, %v", out, err)
	}
}
