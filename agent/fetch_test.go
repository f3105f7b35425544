package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// TestFetchBeforeLaunch: a command task's URIs are in its sandbox, renamed
// and executable as asked, when its container starts; a custom executor's
// URIs likewise; a URI that cannot be fetched fails the task with
// REASON_CONTAINER_LAUNCH_FAILED and a message naming it.
func TestFetchBeforeLaunch(t *testing.T) {
	ta := startAgent(t, nil)
	ta.register(t, "m1-S1")
	src := filepath.Join(t.TempDir(), "tool.sh")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	task := commandTask("t1", "cpus:0.1;mem:32")
	task.Command.Uris = []*mesospb.CommandInfo_URI{{Value: proto.String("file://" + src), Executable: proto.Bool(true),
		Extract: proto.Bool(false), OutputFile: proto.String("bin/tool")}}
	ta.run(t, task)
	spec := ta.launched(t)
	fi, err := os.Stat(filepath.Join(spec.Sandbox, "bin/tool"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("fetched file: %v, %v", fi, err)
	}

	exec := customExecutorTask("t2", "e2", "./tool.sh")
	exec.Executor.Command.Uris = []*mesospb.CommandInfo_URI{{Value: proto.String(src), Executable: proto.Bool(true)}}
	ta.run(t, exec)
	spec = ta.launched(t)
	if _, err := os.Stat(filepath.Join(spec.Sandbox, "tool.sh")); err != nil {
		t.Fatalf("executor URI: %v", err)
	}

	bad := commandTask("t3", "cpus:0.1;mem:32")
	bad.Command.Uris = []*mesospb.CommandInfo_URI{{Value: proto.String("file:///nonexistent/cairn-fetch-test")}}
	ta.run(t, bad)
	u := ta.master.next(t)
	s := u.GetStatus()
	if s.GetTaskId().GetValue() != "t3" || s.GetState() != mesospb.TaskState_TASK_FAILED ||
		s.GetReason() != mesospb.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED || !strings.Contains(s.GetMessage(), "/nonexistent/cairn-fetch-test") {
		t.Fatalf("update %v", s)
	}
}
