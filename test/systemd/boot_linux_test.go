package systemd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/test/cluster"
)

// The container's daemons: a master and an agent on its own loopback (the
// container has a network namespace of its own, so the ports are free).
const (
	masterEnv = "CAIRN_IP=127.0.0.1\n"
	agentEnv  = "CAIRN_MASTER=127.0.0.1:5050\nCAIRN_IP=127.0.0.1\nCAIRN_RESOURCES=cpus:1;mem:512;disk:64\n"
	// A daemon that never says READY=1 fails its start after this long,
	// instead of the units' production 2 minutes.
	testDropIn = "[Service]\nTimeoutStartSec=20s\n"
)

// TestSystemdRunsCairn boots a real systemd, starts cairn-master and
// cairn-agent from the installed units, checks that systemd calls them
// active only once they serve (Type=notify), runs a task, restarts the agent
// unit and checks that the task's process lived through it.
func TestSystemdRunsCairn(t *testing.T) {
	kerneltest.Root(t) // before cluster.Binary builds anything
	c := bootSystemd(t, cluster.Binary(t))
	c.writeFile("/etc/default/cairn-master", masterEnv)
	c.writeFile("/etc/default/cairn-agent", agentEnv)
	for _, u := range []string{"cairn-master", "cairn-agent"} {
		c.writeFile("/etc/systemd/system/"+u+".service.d/test.conf", testDropIn)
	}
	c.must("systemctl", "daemon-reload")
	t.Cleanup(func() { saveJournal(c) })

	// A blocking start of a Type=notify unit returns when READY=1 arrives:
	// the API must answer right then, or READY came before serving.
	for _, u := range []struct{ unit, addr string }{
		{"cairn-master.service", "127.0.0.1:5050"},
		{"cairn-agent.service", "127.0.0.1:5051"},
	} {
		if out, err := c.run("systemctl", "start", u.unit); err != nil {
			t.Fatalf("start %s: %v\n%s\n%s\n(Type=notify: the daemon must send READY=1 once it serves; is cmd/cairn wired to internal/systemd?)",
				u.unit, err, out, c.status(u.unit))
		}
		if st := c.show(u.unit, "ActiveState"); st != "active" {
			t.Fatalf("%s is %s after start", u.unit, st)
		}
		if code, err := c.health(u.addr); err != nil || code != http.StatusOK {
			t.Fatalf("%s active but GET http://%s/health: %d, %v: READY=1 came before it served", u.unit, u.addr, code, err)
		}
	}
	// WatchdogSec= is set: the daemons ping at once and then every half of it.
	for _, u := range []string{"cairn-master.service", "cairn-agent.service"} {
		if ts := c.show(u, "WatchdogTimestampMonotonic"); ts == "" || ts == "0" {
			t.Errorf("%s: systemd got no WATCHDOG=1 (WatchdogTimestampMonotonic=%q)", u, ts)
		}
	}
	// Logs go to journald natively, with structured fields (COMPONENT is an
	// attribute every daemon logger carries).
	if out, _ := c.run("journalctl", "-u", "cairn-agent.service", "COMPONENT=agent", "-o", "cat", "-n", "1", "--no-pager"); out == "" {
		t.Errorf("no journal entry of cairn-agent with a COMPONENT= field: logs are not structured (internal/systemd.Journal)")
	}

	pid, start := c.startTask(t)
	agentPID := c.show("cairn-agent.service", "MainPID")
	if out, err := c.run("systemctl", "restart", "cairn-agent.service"); err != nil {
		t.Fatalf("restart cairn-agent: %v\n%s\n%s", err, out, c.status("cairn-agent.service"))
	}
	if now := c.show("cairn-agent.service", "MainPID"); now == agentPID {
		t.Fatalf("cairn-agent's main pid is still %s after restart", now)
	}
	if got := c.procStart(pid); got != start {
		t.Fatalf("task process %s (sleep 300) did not survive `systemctl restart cairn-agent` (start time now %q, was %q): "+
			"the agent must leave checkpointed tasks running when it is stopped and recover them when it starts",
			pid, got, start)
	}
	// And it stays so: the master must not take the restart for a removal
	// (gossip failure detection takes about 3 s; a forgotten agent's tasks
	// are shut down when it comes back).
	time.Sleep(5 * time.Second)
	if got := c.procStart(pid); got != start {
		t.Fatalf("task process %s was gone 5 s after the agent restarted: the master forgot the agent", pid)
	}
	if out, err := c.run("/usr/local/bin/cairn", "ps", "--master=127.0.0.1:5050"); err != nil || !strings.Contains(out, "TASK_RUNNING") {
		t.Fatalf("cairn ps after the restart: %v\n%s", err, out)
	}
}

// startTask runs `cairn run --checkpoint -- sleep 300` in the container and
// returns the pid (in the container) and start time of the task's process.
func (c *container) startTask(t *testing.T) (pid, start string) {
	t.Helper()
	log, err := os.Create(filepath.Join(t.ArtifactDir(), "cairn-run.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	argv := c.nsenter("/usr/local/bin/cairn", "run", "--master=127.0.0.1:5050", "--checkpoint", "--mem=16", "--", "sleep", "300")
	run := exec.Command(argv[0], argv[1:]...)
	run.Stdout, run.Stderr = log, log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// It ends with the container (registered before the container's
	// shutdown, so this runs after it).
	t.Cleanup(func() { _ = run.Process.Kill(); _ = run.Wait() })
	for range 200 {
		if out, err := c.run("pgrep", "-f", "^sleep 300$"); err == nil && out != "" {
			pid = strings.Fields(out)[0]
			return pid, c.procStart(pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(log.Name())
	t.Fatalf("the task's process never appeared; cairn run said:\n%s", b)
	return "", ""
}

// procStart returns field 22 of /proc/PID/stat (start time in clock ticks),
// which tells a surviving process from a new one with a recycled pid; "" when
// the process is gone.
func (c *container) procStart(pid string) string {
	out, err := c.run("cat", "/proc/"+pid+"/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	if i := strings.LastIndexByte(out, ')'); i >= 0 {
		if f := strings.Fields(out[i+1:]); len(f) > 19 {
			return f[19]
		}
	}
	return ""
}

// health sends GET /health to addr inside the container's network namespace
// and returns the status code. The request is written by hand on a socket
// made by this goroutine's thread, since net/http dials on other goroutines
// (and so threads) that are not in the namespace.
func (c *container) health(addr string) (int, error) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread, now in another namespace, exits with
		// the goroutine instead of going back to the scheduler.
		runtime.LockOSThread()
		code, err := func() (int, error) {
			ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", c.pid1))
			if err != nil {
				return 0, err
			}
			defer ns.Close()
			if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
				return 0, fmt.Errorf("enter the container's netns: %w", err)
			}
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return 0, err
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := fmt.Fprintf(conn, "GET /health HTTP/1.0\r\nHost: %s\r\n\r\n", addr); err != nil {
				return 0, err
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}()
		done <- result{code, err}
	}()
	r := <-done
	return r.code, r.err
}

func (c *container) status(unit string) string {
	out, _ := c.run("systemctl", "status", "--no-pager", "-n", "20", unit)
	return out
}

// saveJournal writes the container's journal to the test's artifacts.
func saveJournal(c *container) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := c.runCtx(ctx, "journalctl", "--no-pager", "-o", "short-precise")
	if err != nil {
		out += fmt.Sprintf("\n(journalctl: %v)", err)
	}
	_ = os.WriteFile(filepath.Join(c.t.ArtifactDir(), "journal.log"), []byte(out+"\n"), 0o644)
}
