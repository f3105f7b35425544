package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cairnhq/cairn/api/mesospb"
)

// command is a task's process as the executor will start it.
type command struct {
	path string
	argv []string
	env  []string
	dir  string
	// stdout and stderr, when set, replace the executor's own (the
	// container's sandbox files) for the task.
	stdout, stderr *os.File
}

// buildCommand turns a CommandInfo into a process description, as Mesos's
// command executor does: shell=true (the default) runs `/bin/sh -c value`;
// shell=false execs value with arguments, arguments[0] being argv[0].
func buildCommand(ci *mesospb.CommandInfo, env []string, dir string) (command, error) {
	if ci == nil {
		return command{}, errors.New("task has no command")
	}
	env = mergeEnv(env, ci.GetEnvironment())
	c := command{env: env, dir: dir}
	if ci.GetShell() {
		if ci.Value == nil {
			return command{}, errors.New("shell command has no value")
		}
		c.path = "/bin/sh"
		c.argv = []string{"sh", "-c", ci.GetValue()}
		return c, nil
	}
	if ci.GetValue() == "" {
		return command{}, errors.New("command has no value to execute")
	}
	path, err := lookPath(ci.GetValue(), envValue(env, "PATH"))
	if err != nil {
		return command{}, err
	}
	c.path = path
	c.argv = ci.GetArguments()
	if len(c.argv) == 0 {
		c.argv = []string{ci.GetValue()}
	}
	return c, nil
}

// mergeEnv overlays the task's variables on the executor's environment.
// Secrets are not supported by the command executor; they are skipped.
func mergeEnv(base []string, add *mesospb.Environment) []string {
	vars := add.GetVariables()
	if len(vars) == 0 {
		return base
	}
	override := make(map[string]bool, len(vars))
	for _, v := range vars {
		if v.GetType() == mesospb.Environment_Variable_VALUE {
			override[v.GetName()] = true
		}
	}
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !override[k] {
			out = append(out, kv)
		}
	}
	for _, v := range vars {
		if v.GetType() == mesospb.Environment_Variable_VALUE {
			out = append(out, v.GetName()+"="+v.GetValue())
		}
	}
	return out
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// lookPath resolves name against the task's PATH (not the executor's), as
// execvp in the task's environment would.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in PATH", name)
}

// spawn starts the command in its own process group with the executor's
// stdio (the sandbox's stdout and stderr files) unless the command has its
// own. It does not wait: the
// reaper does. The exec error of a missing binary is reported here, since
// the runtime reports exec failures synchronously.
func (c command) spawn() (int, error) {
	stdout, stderr := os.Stdout, os.Stderr
	if c.stdout != nil {
		stdout = c.stdout
	}
	if c.stderr != nil {
		stderr = c.stderr
	}
	p, err := os.StartProcess(c.path, c.argv, &os.ProcAttr{
		Dir:   c.dir,
		Env:   c.env,
		Files: []*os.File{os.Stdin, stdout, stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return 0, err
	}
	pid := p.Pid
	// Drop the runtime's handle (a pidfd) without waiting; the reaper owns
	// the wait.
	_ = p.Release()
	return pid, nil
}

// describeExit is the state and message Mesos's command executor reports
// for a finished task. killed says the executor had been asked to kill it.
func describeExit(ws syscall.WaitStatus, killed bool) (mesospb.TaskState, string) {
	var msg string
	success := false
	switch {
	case ws.Exited():
		msg = fmt.Sprintf("Command exited with status %d", ws.ExitStatus())
		success = ws.ExitStatus() == 0
	case ws.Signaled():
		msg = "Command terminated with signal " + signalName(ws.Signal())
	default:
		msg = fmt.Sprintf("Command terminated with wait status %#x", uint32(ws))
	}
	switch {
	case killed:
		return mesospb.TaskState_TASK_KILLED, msg
	case success:
		return mesospb.TaskState_TASK_FINISHED, msg
	default:
		return mesospb.TaskState_TASK_FAILED, msg
	}
}

// signalName matches strsignal(3): "Killed", "Terminated", "Segmentation fault".
func signalName(s syscall.Signal) string {
	name := s.String()
	if name == "" {
		return fmt.Sprintf("%d", int(s))
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
