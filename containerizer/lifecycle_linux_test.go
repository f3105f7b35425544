package containerizer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

func TestLaunchOutputAndExitCode(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	id := launch(t, l, shell(b, `echo hi; echo err >&2; pwd; echo data > written && echo sandbox-writable
touch /usr/cairn-probe 2>/dev/null || echo usr-readonly
touch /etc/cairn-probe 2>/dev/null || echo etc-readonly
touch /cairn-probe 2>/dev/null || echo root-readonly
touch /tmp/x && echo tmp-writable
exit 3`))
	e := wait(t, l, id)
	if e != (Exit{Code: 3}) {
		t.Errorf("exit = %+v, want code 3", e)
	}
	stdout, stderr := b.out(t)
	for _, want := range []string{"hi\n", SandboxMount + "\n", "sandbox-writable", "usr-readonly", "etc-readonly", "root-readonly", "tmp-writable"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
	}
	if stderr != "err\n" {
		t.Errorf("stderr = %q, want err", stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(b.dir, "written")); string(got) != "data\n" {
		t.Errorf("file written in the sandbox reads %q on the host", got)
	}
	if _, err := os.Stat("/usr/cairn-probe"); err == nil {
		t.Error("container wrote to the host's /usr")
	}
	// Wait from several goroutines, and again, gets the same exit.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := l.Wait(context.Background(), id)
			if err == nil && got != e {
				err = errors.New("different exit: " + got.String())
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestOutputAppends(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	if err := os.WriteFile(b.stdout, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wait(t, l, launch(t, l, shell(b, "echo after")))
	if stdout, _ := b.out(t); stdout != "before\nafter\n" {
		t.Errorf("stdout = %q, want appended", stdout)
	}
}

func TestNamespacesAndEnv(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	s := shell(b, `echo pid=$$; echo host=$(hostname); echo env=$FOO; ls /dev; cat /.cairn/bound`)
	s.Hostname = "task-host"
	s.Env = []string{"PATH=/usr/bin:/bin", "FOO=bar"}
	bound := filepath.Join(t.TempDir(), "bound")
	if err := os.WriteFile(bound, []byte("bound-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Binds = []Bind{{Source: bound, Target: "/.cairn/bound"}}
	if e := wait(t, l, launch(t, l, s)); e.Code != 0 {
		_, stderr := b.out(t)
		t.Fatalf("exit %+v, stderr %q", e, stderr)
	}
	stdout, _ := b.out(t)
	for _, want := range []string{"pid=1\n", "host=task-host\n", "env=bar\n", "null\n", "urandom\n", "pts\n", "shm\n", "bound-file\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
	}
	if h, _ := os.Hostname(); h == "task-host" {
		t.Error("container changed the host's hostname")
	}
}

func TestNetNS(t *testing.T) {
	l := newTestLinux(t)
	name := kerneltest.Name("cn")
	if err := exec("ip", "netns", "add", name); err != nil {
		kerneltest.Skip(t, "ip netns add: "+err.Error())
	}
	t.Cleanup(func() { _ = exec("ip", "netns", "delete", name) })
	var st syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+name, &st); err != nil {
		t.Fatal(err)
	}
	b := newBox(t)
	s := shell(b, "readlink /proc/self/ns/net")
	s.NetNS = "/run/netns/" + name
	wait(t, l, launch(t, l, s))
	stdout, stderr := b.out(t)
	want := "net:[" + itoa(st.Ino) + "]\n"
	if stdout != want {
		t.Errorf("container network namespace %q (stderr %q), want %q", stdout, stderr, want)
	}
}

func TestDestroy(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	id := ids.ContainerID(kerneltest.Name("c"))
	s := shell(b, "sleep 600 & sleep 600 & sleep 600")
	s.ID = id
	s.Env = []string{"PATH=/usr/bin"}
	pid, err := l.Launch(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := l.CgroupPaths(id)
	if err != nil {
		t.Fatal(err)
	}
	want, err := l.host.dirs(l.cgroupsRoot, string(id))
	if err != nil {
		t.Fatal(err)
	}
	for c, d := range want {
		if paths[c] != d {
			t.Errorf("cgroup %q at %s, expected %s", c, paths[c], d)
		}
	}
	for c, d := range paths {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("cgroup %q: %v", c, err)
		}
	}
	if got, _ := l.Containers(); len(got) != 1 || got[0] != id {
		t.Errorf("Containers() = %v", got)
	}
	if _, err := l.Launch(context.Background(), s); !errors.Is(err, ErrExists) {
		t.Errorf("second Launch of the same id: %v", err)
	}
	exited := make(chan Exit, 1)
	go func() {
		e, _ := l.Wait(context.Background(), id)
		exited <- e
	}()
	var u Usage
	for u.Processes < 4 { // sh and three sleeps
		if u, err = l.Usage(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Destroy(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if e := <-exited; e.Signal != syscall.SIGKILL {
		t.Errorf("exit after Destroy = %+v, want SIGKILL", e)
	}
	for c, d := range paths {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %q still there after Destroy: %v", c, err)
		}
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("init pid %d still exists: %v", pid, err)
	}
	for _, p := range []string{filepath.Join(l.stateDir, string(id)), filepath.Join(l.stateDir, rootfsDir, string(id))} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if got, _ := l.Containers(); len(got) != 0 {
		t.Errorf("Containers() after Destroy = %v", got)
	}
	for _, again := range []ids.ContainerID{id, "never-launched", "../bad"} {
		if err := l.Destroy(context.Background(), again); err != nil {
			t.Errorf("Destroy(%q) again: %v", again, err)
		}
	}
	if _, err := l.Wait(context.Background(), id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait after Destroy: %v", err)
	}
	if err := l.Signal(id, syscall.SIGTERM); !errors.Is(err, ErrNotFound) {
		t.Errorf("Signal after Destroy: %v", err)
	}
}

func TestSignals(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	// The init traps TERM; a child that ignores nothing dies of SignalAll.
	id := launch(t, l, shell(b, `trap 'echo got-term; exit 7' TERM; sleep 600 & child=$!; while kill -0 $child 2>/dev/null; do sleep 0.05; done; echo child-gone; while :; do sleep 0.05; done`))
	var u Usage
	for u.Processes < 3 { // sh, sleep 600, sleep 0.05
		var err error
		if u, err = l.Usage(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SignalAll(id, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	e := wait(t, l, id)
	stdout, _ := b.out(t)
	if e.Code != 7 || !strings.Contains(stdout, "got-term") {
		t.Errorf("exit %+v, stdout %q: want the trap to run", e, stdout)
	}
	if err := l.Signal(id, syscall.SIGTERM); err != nil {
		t.Errorf("Signal to an exited container: %v", err)
	}
}

// TestOrphan plays an agent restart: a second containerizer over the same
// state directory finds the first one's container, reads its usage and
// destroys it.
func TestOrphan(t *testing.T) {
	l1 := newTestLinux(t)
	b := newBox(t)
	s := shell(b, "")
	s.Args = []string{"/usr/bin/sleep", "600"}
	id := launch(t, l1, s)
	l2, err := New(Config{StateDir: l1.stateDir, CgroupsRoot: l1.cgroupsRoot, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l2.Containers(); len(got) != 1 || got[0] != id {
		t.Fatalf("Containers() of the new agent = %v", got)
	}
	if u, err := l2.Usage(id); err != nil || u.Processes != 1 {
		t.Errorf("Usage of an orphan = %+v, %v", u, err)
	}
	// Launching over a running orphan is refused and leaves it alone.
	s.ID = id
	if _, err := l2.Launch(context.Background(), s); !errors.Is(err, ErrExists) {
		t.Errorf("Launch over an orphan: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l2.stateDir, rootfsDir, string(id), "usr")); err != nil {
		t.Errorf("orphan's root directory damaged: %v", err)
	}
	if u, err := l2.Usage(id); err != nil || u.Processes != 1 {
		t.Errorf("orphan after refused Launch: %+v, %v", u, err)
	}
	paths, _ := l2.CgroupPaths(id)
	if err := l2.Destroy(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	for _, d := range paths {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s still there: %v", d, err)
		}
	}
	if got, _ := l2.Containers(); len(got) != 0 {
		t.Errorf("Containers() after destroying the orphan = %v", got)
	}
	if e := wait(t, l1, id); e.Signal != syscall.SIGKILL {
		t.Errorf("first agent saw %+v", e)
	}
}

func TestLaunchFailureLeavesNothing(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	for name, s := range map[string]Spec{
		"missing command": {Sandbox: b.dir, Args: []string{"/nonexistent/cmd"}},
		"missing sandbox": {Sandbox: filepath.Join(b.dir, "nope"), Args: []string{"/bin/true"}},
		"missing netns":   {Sandbox: b.dir, Args: []string{"/bin/true"}, NetNS: "/run/netns/cairn-none"},
	} {
		s.ID = ids.ContainerID(kerneltest.Name("f"))
		_, err := l.Launch(context.Background(), s)
		if err == nil {
			t.Errorf("%s: Launch succeeded", name)
			_ = l.Destroy(context.Background(), s.ID)
			continue
		}
		t.Logf("%s: %v", name, err)
		dirs, _ := l.host.dirs(l.cgroupsRoot, string(s.ID))
		for _, d := range dirs {
			if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: cgroup %s left: %v", name, d, err)
			}
		}
		for _, p := range []string{filepath.Join(l.stateDir, string(s.ID)), filepath.Join(l.stateDir, rootfsDir, string(s.ID))} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s left: %v", name, p, err)
			}
		}
		if _, err := l.Wait(context.Background(), s.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Wait after failed launch: %v", name, err)
		}
	}
}

func TestConcurrentLaunches(t *testing.T) {
	l := newTestLinux(t)
	const n = 8
	boxes := make([]box, n)
	errs := make(chan error, n)
	for i := range n {
		boxes[i] = newBox(t)
		go func() {
			s := shell(boxes[i], "echo $$ $(hostname)")
			s.ID = ids.ContainerID(kerneltest.Name("p"))
			s.Env = []string{"PATH=/usr/bin"}
			s.Hostname = string(s.ID)
			if _, err := l.Launch(context.Background(), s); err != nil {
				errs <- err
				return
			}
			e, err := l.Wait(context.Background(), s.ID)
			if err == nil && e.Code != 0 {
				err = errors.New(e.String())
			}
			if derr := l.Destroy(context.Background(), s.ID); err == nil {
				err = derr
			}
			if out, _ := os.ReadFile(boxes[i].stdout); err == nil && string(out) != "1 "+string(s.ID)+"\n" {
				err = errors.New("output " + string(out))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got, _ := l.Containers(); len(got) != 0 {
		t.Errorf("Containers() = %v", got)
	}
}

func TestCloseRemovesTheCgroupsRoot(t *testing.T) {
	l := newTestLinux(t)
	b := newBox(t)
	dirs, err := l.host.dirs(l.cgroupsRoot, "")
	if err != nil {
		t.Fatal(err)
	}
	s := shell(b, "sleep 600")
	s.ID = ids.ContainerID(kerneltest.Name("c"))
	if _, err := l.Launch(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	// While a container lives below it, the root stays.
	if err := l.Close(); err != nil {
		t.Fatalf("Close with a live container: %v", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("cgroups root %s removed under a live container: %v", d, err)
		}
	}
	if err := l.Destroy(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for c, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("cgroups root of %q still there after Close: %s (%v)", c, d, err)
		}
	}
}
