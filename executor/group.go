package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnhq/cairn/api/mesospb"
)

// ExecutorTypeEnv names the variable by which the agent tells `cairn
// executor` which executor to be: "command" (or unset), the command
// executor of one task, or "default", Mesos's default executor, which runs
// task groups (LAUNCH_GROUP). Mesos starts two different binaries for the
// two; Cairn has one, so the agent says which. The variable is not passed
// on to tasks.
const ExecutorTypeEnv = "CAIRN_EXECUTOR_TYPE"

// tasksDir is where a task group's task gets its own sandbox, under the
// executor's: <sandbox>/tasks/<task_id>, as Mesos lays it out (there a
// link to the task's nested container sandbox).
const tasksDir = "tasks"

// launchGroup starts one task group. Like Mesos's default executor it
// reports TASK_STARTING for every task first, then starts them, then
// reports TASK_RUNNING for those that started. A task that cannot start
// fails, and (by the group rule) takes the others down with it.
func (e *Executor) launchGroup(ctx context.Context, infos []*mesospb.TaskInfo) {
	if len(infos) == 0 {
		return
	}
	if e.shutdown || e.over() {
		// The executor is on its way out (Mesos's default executor
		// terminates once its last task ended); the agent fails these
		// tasks when the container exits, if it has not already.
		for _, info := range infos {
			e.update(ctx, info.GetTaskId(), mesospb.TaskState_TASK_ERROR, "the executor is shutting down", nil)
		}
		return
	}
	e.groups++
	var group []*task
	for _, info := range infos {
		if prev := e.find(info.GetTaskId().GetValue()); prev != nil {
			e.log.Debug("ignoring duplicate launch", "task_id", prev.id())
			continue
		}
		t := &task{info: info, group: e.groups}
		e.tasks = append(e.tasks, t)
		group = append(group, t)
		e.update(ctx, info.GetTaskId(), mesospb.TaskState_TASK_STARTING, "", nil)
	}
	var failed []*task
	var errs []error
	for _, t := range group {
		e.log.Info("launching task", "task_id", t.id(), "group", t.group)
		if err := e.startInGroup(t); err != nil {
			failed, errs = append(failed, t), append(errs, err)
		}
	}
	for _, t := range group {
		if t.pid != 0 {
			e.update(ctx, t.info.GetTaskId(), mesospb.TaskState_TASK_RUNNING, "", nil)
		}
	}
	for i, t := range failed {
		e.launchFailed(ctx, t, errs[i])
	}
}

// startInGroup starts one task of a group in its own sandbox directory,
// with its stdout and stderr files there.
func (e *Executor) startInGroup(t *task) error {
	id := t.id()
	if !validPathElem(id) {
		return fmt.Errorf("task id %q cannot name a sandbox directory", id)
	}
	dir := filepath.Join(e.cfg.Sandbox, tasksDir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create task sandbox: %w", err)
	}
	cmd, err := buildCommand(t.info.GetCommand(), taskEnv(e.cfg.Env, dir, id), dir)
	if err != nil {
		return err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open task stdout: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open task stderr: %w", err)
	}
	defer stderr.Close()
	cmd.stdout, cmd.stderr = stdout, stderr
	return e.start(t, cmd)
}

// taskEnv is a group task's environment before its CommandInfo's own
// variables: the executor's, with MESOS_SANDBOX naming the task's own
// sandbox (as Mesos sets it for a nested container) and MESOS_TASK_ID its
// id (a Cairn addition: the tasks of a group share one executor id).
func taskEnv(base []string, sandbox, taskID string) []string {
	out := make([]string, 0, len(base)+2)
	for _, kv := range base {
		if strings.HasPrefix(kv, "MESOS_SANDBOX=") || strings.HasPrefix(kv, "MESOS_TASK_ID=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "MESOS_SANDBOX="+sandbox, "MESOS_TASK_ID="+taskID)
}

// validPathElem says whether a task id can name a directory of its own
// under tasks/ without escaping it.
func validPathElem(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}
