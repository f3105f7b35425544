package bpftest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

const helperEnv = "CAIRN_BPFTEST_HELPER"

// Main runs a helper when the test binary was re-executed as one, and the
// tests otherwise. Call it from TestMain.
func Main(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(2)
		}
		if err := h(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Proc is a helper process running in a test cgroup.
type Proc struct {
	Cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	done  bool
}

// Start runs helper name with args, born inside cgroup cg (clone3 with
// CLONE_INTO_CGROUP, so not one instruction runs elsewhere). Cleanup kills it.
func Start(t testing.TB, cg Cgroup, name string, args ...string) *Proc {
	t.Helper()
	return StartFiles(t, cg, nil, name, args...)
}

// StartFiles is Start with extra files, which the helper sees as fds 3, 4, ...
func StartFiles(t testing.TB, cg Cgroup, files []*os.File, name string, args ...string) *Proc {
	t.Helper()
	dir, err := os.Open(cg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name, "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper %s: %v", name, err)
	}
	p := &Proc{Cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		if !p.done {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

// Pid returns the helper's process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Line returns the helper's next line of output; it fails the test if the
// helper exits first.
func (p *Proc) Line(t testing.TB) string {
	t.Helper()
	if !p.out.Scan() {
		t.Fatalf("helper %d ended without a line: %v", p.Pid(), p.out.Err())
	}
	return p.out.Text()
}

// Expect reads lines until one starts with prefix and returns the rest.
func (p *Proc) Expect(t testing.TB, prefix string) string {
	t.Helper()
	for {
		if rest, ok := strings.CutPrefix(p.Line(t), prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
}

// Send writes one line to the helper's stdin.
func (p *Proc) Send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("write to helper %d: %v", p.Pid(), err)
	}
}

// Wait closes the helper's stdin (its cue to finish, for those that wait)
// and waits for it to exit. A helper killed by a signal is no error here:
// the returned state says how it ended.
func (p *Proc) Wait(t testing.TB) *os.ProcessState {
	t.Helper()
	_ = p.stdin.Close()
	err := p.Cmd.Wait()
	p.done = true
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("wait for helper: %v", err)
	}
	return p.Cmd.ProcessState
}
