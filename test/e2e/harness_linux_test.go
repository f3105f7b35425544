package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/test/cluster"
)

// Generous bounds on waiting for liveness; none of them is a performance
// assertion.
const (
	startTimeout = 60 * time.Second
	cliTimeout   = 2 * time.Minute
	stopTimeout  = 30 * time.Second
)

// env is one test's cluster plus the cairn binary.
type env struct {
	t   *testing.T
	c   *cluster.Cluster
	bin string
	dir string // the test's scratch directory
}

// newEnv builds a cluster of n nodes. The scratch directory is created
// before the cluster so that it is removed after everything in the cluster
// has stopped (cleanups run last-in first-out).
func newEnv(t *testing.T, nodes int) *env {
	t.Helper()
	kerneltest.Root(t)
	dir := t.TempDir()
	bin := cluster.Binary(t)
	c := cluster.New(t, cluster.Options{Nodes: nodes})
	t.Logf("cluster %s, logs in %s", c, c.LogDir)
	return &env{t: t, c: c, bin: bin, dir: dir}
}

// daemon is a cairn process that runs until stopped: a master, an agent or
// `cairn dev`.
type daemon struct {
	name string
	node *cluster.Node
	argv []string
	proc *cluster.Proc
	// runtimeDir is an agent's --runtime_dir, when the test chose it.
	runtimeDir string
}

// start runs `cairn args...` on node i.
func (e *env) start(name string, i int, args ...string) *daemon {
	e.t.Helper()
	d := &daemon{name: name, node: e.c.Node(i), argv: append([]string{e.bin}, args...)}
	d.proc = d.node.Start(name, d.argv, nil)
	return d
}

// startMaster runs `cairn master` on node i listening on the node's address
// and waits until it serves.
func (e *env) startMaster(i int, extra ...string) *daemon {
	e.t.Helper()
	n := e.c.Node(i)
	args := append([]string{"master", "--ip=" + n.IP.String(), "--work_dir=" + filepath.Join(e.dir, "master")}, extra...)
	m := e.start("master", i, args...)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := cluster.WaitHTTP(ctx, "http://"+n.Addr(5050)+"/health"); err != nil {
		e.t.Fatalf("master on node %d not serving: %v\n%s", i, err, m.proc.Log())
	}
	return m
}

// startAgent runs `cairn agent` on node i, registered with the master at
// masterAddr, with a unique cgroups root and work and runtime dirs in the
// test's scratch dir, and arranges for it and its containers to be gone
// after the test.
func (e *env) startAgent(name string, i int, masterAddr string, extra ...string) *daemon {
	e.t.Helper()
	n := e.c.Node(i)
	root := kerneltest.Name("cairn-e2e-")
	args := append([]string{"agent", "--master=" + masterAddr, "--ip=" + n.IP.String(),
		"--work_dir=" + filepath.Join(e.dir, name), "--runtime_dir=" + filepath.Join(e.dir, name+"-run"),
		"--cgroups_root=" + root}, extra...)
	a := e.start(name, i, args...)
	a.runtimeDir = filepath.Join(e.dir, name+"-run")
	e.t.Cleanup(func() { e.stopAgent(a, root) })
	return a
}

// startDev runs `cairn dev` on node i with a unique cgroups root and work
// dir, and arranges for it and its containers to be gone after the test.
func (e *env) startDev(i int, extra ...string) *daemon {
	e.t.Helper()
	root := kerneltest.Name("cairn-e2e-")
	args := append([]string{"dev", "--work_dir=" + filepath.Join(e.dir, "dev"),
		"--runtime_dir=" + filepath.Join(e.dir, "dev-run"), "--cgroups_root=" + root}, extra...)
	d := e.start("dev", i, args...)
	d.runtimeDir = filepath.Join(e.dir, "dev-run")
	e.t.Cleanup(func() { e.stopAgent(d, root) })
	return d
}

// stopAgent stops a process holding an agent and makes sure none of its
// containers survive. An agent that exits on SIGTERM destroys its
// containers. One that died otherwise (kill -9) left them behind, so it is
// started again on the same work dir and cgroups root, which destroys
// leftovers on start, and stopped again. Whatever is still in a cgroup named
// after the root then is killed and removed, and reported as a leak.
func (e *env) stopAgent(d *daemon, root string) {
	t := e.t
	code, clean := d.stop()
	if !clean {
		t.Logf("%s ended with %d: restarting it to destroy its leftover containers", d.name, code)
		again := &daemon{name: d.name + "-cleanup", node: d.node, argv: d.argv}
		again.proc = d.node.Start(again.name, again.argv, nil)
		err := waitLog(again.proc, "agent serving", startTimeout)
		if err != nil {
			t.Errorf("restart %s for cleanup: %v", d.name, err)
		}
		if code, clean := again.stop(); !clean {
			t.Errorf("%s (cleanup run) ended with %d, not by SIGTERM", d.name, code)
		}
	}
	if d.runtimeDir != "" {
		if left := containerStates(filepath.Join(d.runtimeDir, "containers")); len(left) > 0 {
			t.Errorf("%s left the state of %d containers behind: %v", d.name, len(left), left)
		}
	}
	leaks, err := removeCgroups(root)
	if err != nil {
		t.Errorf("remove cgroups %s: %v", root, err)
	}
	if len(leaks) > 0 {
		t.Errorf("%s left processes in its cgroups: %v", d.name, leaks)
	}
}

// stop sends SIGTERM and waits; clean reports an exit with status 0 in
// answer to it. A process that had already died reports its earlier status.
func (d *daemon) stop() (code int, clean bool) {
	select {
	case <-d.proc.Done():
		code, _ := d.proc.Wait(context.Background())
		return code, false
	default:
	}
	_ = d.proc.Kill(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	code, err := d.proc.Wait(ctx)
	if err != nil {
		_ = d.proc.Kill(syscall.SIGKILL)
		code, _ = d.proc.Wait(context.Background())
		return code, false
	}
	return code, code == 0
}

// waitLog waits until the process has logged want; it fails early when the
// process exits.
func waitLog(p *cluster.Proc, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.Log(), want) {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before logging %q:\n%s", p.Name, want, p.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not log %q within %v", p.Name, want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cli runs `cairn args...` on node i to completion and returns its exit
// code and output.
func (e *env) cli(name string, i int, args ...string) (int, string) {
	e.t.Helper()
	p := e.c.Node(i).Start(name, append([]string{e.bin}, args...), nil)
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	code, err := p.Wait(ctx)
	if err != nil {
		_ = p.Kill(syscall.SIGKILL)
		e.t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, p.Log())
	}
	return code, p.Log()
}

// operatorClient talks to the master on node i from the test process.
func (e *env) operator(i int) *operator.Client {
	return operator.New(e.c.Node(i).Addr(5050), cluster.HTTPClient())
}

// waitAgents waits until the master on node i has n active agents and
// returns them.
func (e *env) waitAgents(i, n int) []*masterpb.Response_GetAgents_Agent {
	e.t.Helper()
	var agents []*masterpb.Response_GetAgents_Agent
	cluster.Eventually(e.t, startTimeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := e.operator(i).Agents(ctx)
		if err != nil {
			return err
		}
		agents = agents[:0]
		for _, a := range res.GetAgents() {
			if a.GetActive() {
				agents = append(agents, a)
			}
		}
		if len(agents) != n {
			return fmt.Errorf("%d of %d agents active", len(agents), n)
		}
		return nil
	})
	return agents
}

// progress polls cond until it returns nil, and fails the test when the
// count it reports has not grown for stall: a bound on liveness (no task
// finished for a minute), not on speed, so a slow machine only takes longer.
func progress(t *testing.T, stall time.Duration, cond func() (int, error)) {
	t.Helper()
	last, lastAt := -1, time.Now()
	for {
		n, err := cond()
		if err == nil {
			return
		}
		if n > last {
			last, lastAt = n, time.Now()
		}
		if time.Since(lastAt) > stall {
			t.Fatalf("no progress for %v: %v", stall, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// containerStates lists the container state directories under dir (the
// containerizer's; ".rootfs" holds their root directories).
func containerStates(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var ids []string
	for _, e := range entries {
		if e.Name() != ".rootfs" {
			ids = append(ids, e.Name())
		}
	}
	return ids
}
