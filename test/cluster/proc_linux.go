package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process has between SIGTERM and SIGKILL in Cleanup.
const stopGrace = 2 * time.Second

// tailLines is how much of each process log a failed test prints.
const tailLines = 100

// Proc is a process started on a node. Its methods are safe for concurrent use.
type Proc struct {
	// Name is the name given to Start; the log file is named after it.
	Name string
	// LogPath is the file holding the process's stdout and stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	code int   // set before done is closed
	err  error // set before done is closed
}

// Start runs argv inside the node's network namespace, in the host's other
// namespaces, via `nsenter --net=NETNS -- argv`. argv[0] is looked up in the
// child's PATH. The child's environment is the test's, minus every CAIRN_*
// variable (those configure cairn and must come from the test, not from
// whoever runs it), plus env. Stdout and stderr go to LogPath. The process is
// stopped in Cleanup and killed if the test process dies. Start fails the test
// when the process cannot be started.
func (n *Node) Start(name string, argv []string, env []string) *Proc {
	c := n.c
	c.t.Helper()
	if len(argv) == 0 {
		c.t.Fatalf("cluster: start %s: empty argv", name)
	}
	p := &Proc{Name: name, LogPath: c.logPath(name), done: make(chan struct{})}
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		c.t.Fatalf("cluster: start %s: %v", name, err)
	}
	defer log.Close() // the child holds its own copy
	p.cmd = exec.Command("nsenter", append([]string{"--net=" + n.Netns, "--"}, argv...)...)
	p.cmd.Env = childEnv(os.Environ(), env)
	p.cmd.Stdout = log // an *os.File: the child writes to it directly, no copying goroutine
	p.cmd.Stderr = log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := spawn(p.cmd); err != nil {
		c.t.Fatalf("cluster: start %s on node %d: %v", name, n.Index, err)
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	go p.reap()
	return p
}

// logPath returns a fresh log file path for a process name; a name started
// again (a restarted agent) gets name-2.log, name-3.log, ...
func (c *Cluster) logPath(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logNames[name]++
	file := name
	if k := c.logNames[name]; k > 1 {
		file += "-" + strconv.Itoa(k)
	}
	return filepath.Join(c.LogDir, file+".log")
}

func childEnv(base, extra []string) []string {
	env := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		if !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// spawner forks every process from one goroutine locked to its OS thread for
// good. PR_SET_PDEATHSIG fires when the forking *thread* exits, and Go may
// retire a thread whose goroutine locked it and exited; this thread never exits
// before the process does.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread()
			for r := range spawner.reqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	spawner.reqs <- r
	return <-r.err
}

func (p *Proc) reap() {
	err := p.cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		p.code = 0
	case errors.As(err, &exit):
		p.code = exitCode(exit.ProcessState)
	default:
		p.code, p.err = -1, fmt.Errorf("wait for %s: %w", p.Name, err)
	}
	close(p.done)
}

// exitCode follows the shell: 128+N for a process killed by signal N.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Pid returns the process id (nsenter execs argv, so this is argv's pid).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Kill sends sig to the process. Signalling a process that has already exited
// is no error.
func (p *Proc) Kill(sig os.Signal) error {
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	return nil
}

// Wait waits for the process to exit and returns its exit code: the status it
// exited with, or 128+N when killed by signal N. The error is ctx's when ctx
// ends first, or a failure to wait at all; a non-zero exit is not an error.
func (p *Proc) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		return p.code, p.err
	case <-ctx.Done():
		return -1, fmt.Errorf("wait for %s: %w", p.Name, ctx.Err())
	}
}

// Log returns everything the process has written to stdout and stderr so far.
func (p *Proc) Log() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(read log of %s: %v)", p.Name, err)
	}
	return string(b)
}

// stop ends the process: SIGTERM, then SIGKILL after grace. It returns false
// when even SIGKILL did not end it in time (a process stuck in the kernel).
func (p *Proc) stop(grace time.Duration) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	_ = p.Kill(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
	}
	_ = p.Kill(syscall.SIGKILL)
	select {
	case <-p.done:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// stopAll stops every process in parallel and, when the test failed, prints
// the end of each log.
func (c *Cluster) stopAll() {
	c.mu.Lock()
	procs := append([]*Proc(nil), c.procs...)
	c.mu.Unlock()
	var wg sync.WaitGroup
	stuck := make([]bool, len(procs))
	for i, p := range procs {
		wg.Go(func() { stuck[i] = !p.stop(stopGrace) })
	}
	wg.Wait()
	for i, p := range procs {
		if stuck[i] {
			c.t.Errorf("cluster %s: %s (pid %d) survived SIGKILL", c.ID, p.Name, p.Pid())
		}
	}
	if !c.t.Failed() {
		return
	}
	for i, p := range procs {
		status := "still running"
		if !stuck[i] {
			status = fmt.Sprintf("exit %d", p.code)
		}
		c.t.Logf("cluster %s: %s (pid %d, %s), last %d lines of %s:\n%s",
			c.ID, p.Name, p.Pid(), status, tailLines, p.LogPath, lastLines(p.Log(), tailLines))
	}
}
