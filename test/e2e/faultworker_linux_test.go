package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/test/cluster"
)

// faultWorker kills one agent again and again under its own framework.
type faultWorker struct {
	name, host string
	agent      *daemon
	fw         *framework
	launcher   *faultLauncher
	delays     []time.Duration // one iteration each

	// Written by run, read once it is over.
	ids     []string
	delayOf map[string]time.Duration
}

// run does the worker's iterations: launch, kill after the iteration's
// delay, restart, wait until every task launched has ended. It runs on a
// goroutine of its own and returns what went wrong instead of failing t.
func (w *faultWorker) run(t *testing.T, e *env) error {
	for i, delay := range w.delays {
		var ids []string
		for _, k := range faultKinds {
			ids = append(ids, fmt.Sprintf("fi-%s-%02d-%s", w.host, i, k.name))
		}
		iterStart := time.Now()
		rec, err := w.launcher.launch(t, w.fw, ids)
		if err == nil {
			err = rec.err
		}
		if err != nil {
			return fmt.Errorf("iteration %d: launch: %w", i, err)
		}
		w.ids = append(w.ids, ids...)
		for _, id := range ids {
			w.delayOf[id] = delay
		}

		time.Sleep(time.Until(rec.at.Add(delay)))
		if err := w.agent.proc.Kill(syscall.SIGKILL); err != nil {
			return err
		}
		<-w.agent.proc.Done()
		killedAt := time.Now()
		e.restart(w.agent, fmt.Sprintf("%s-run%02d", w.name, i+1))
		// "agent serving" follows the reading of the checkpoints; "agent
		// recovered" is only logged when an executor was re-attached.
		if err := waitLog(w.agent.proc, "agent serving", startTimeout); err != nil {
			return fmt.Errorf("iteration %d: %w\nsockets on the agent's node:\n%s", i, err, sockets(w.agent.node))
		}
		recoveredAt := time.Now()
		if err := waitTerminal(t, w.fw, w.agent, ids); err != nil {
			return fmt.Errorf("iteration %d: %w", i, err)
		}
		t.Logf("%s iteration %d: kill %v after ACCEPT; launch %v, serving %v after the kill, all ended %v after it",
			w.name, i, delay, rec.at.Sub(iterStart).Round(time.Millisecond), recoveredAt.Sub(killedAt).Round(time.Millisecond),
			time.Since(killedAt).Round(time.Millisecond))
	}
	return nil
}

// faultLauncher launches the tasks the test asks for on the next offer of
// its host and declines every other offer for an hour; the test revives
// offers when it wants a launch.
type faultLauncher struct {
	host     string
	mu       sync.Mutex
	pending  []string // task ids, in faultKinds order
	launched chan launchRecord
}

// launchRecord is when an ACCEPT was answered, and how.
type launchRecord struct {
	at  time.Time
	err error
}

// launch asks for ids to be launched and waits until the ACCEPT was
// answered, reviving offers every two seconds (the agent may not be
// admitted again yet). Any goroutine may call it.
func (l *faultLauncher) launch(t *testing.T, fw *framework, ids []string) (launchRecord, error) {
	l.mu.Lock()
	l.pending = ids
	l.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := fw.client.Revive(ctx)
		cancel()
		if err != nil {
			t.Logf("revive: %v", err)
		}
		select {
		case rec := <-l.launched:
			return rec, nil
		case <-time.After(2 * time.Second):
		}
		if time.Now().After(deadline) {
			return launchRecord{}, fmt.Errorf("no offer to launch %v within %v", ids, startTimeout)
		}
	}
}

func (l *faultLauncher) policy(ctx context.Context, fw *framework, offers []*mesospb.Offer) error {
	var rest []*mesospb.Offer
	for _, o := range offers {
		l.mu.Lock()
		ids := l.pending
		if o.GetHostname() == l.host {
			l.pending = nil
		}
		l.mu.Unlock()
		if len(ids) == 0 || o.GetHostname() != l.host {
			rest = append(rest, o)
			continue
		}
		var tasks []*mesospb.TaskInfo
		for i, id := range ids {
			tasks = append(tasks, commandTask(id, o, 0.1, 16, faultKinds[i].cmd))
		}
		err := fw.client.Launch(ctx, offerIDs([]*mesospb.Offer{o}), tasks, refuse(3600))
		l.launched <- launchRecord{at: time.Now(), err: err}
	}
	if len(rest) == 0 {
		return nil
	}
	return fw.client.Decline(ctx, offerIDs(rest), refuse(3600))
}

// sockets lists the TCP sockets of a node's namespace with their
// processes, and those processes' command lines and parents, for a daemon
// that could not bind its port.
func sockets(n *cluster.Node) string {
	out, err := exec.Command("nsenter", "--net="+n.Netns, "--", "ss", "-tanpe").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ss: %v: %s", err, out)
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "TIME-WAIT") {
			continue
		}
		b.WriteString(line + "\n")
		for _, f := range strings.Split(line, "pid=")[1:] {
			pid := f[:strings.IndexAny(f+",", ",)")]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			status, _ := os.ReadFile("/proc/" + pid + "/status")
			ppid := ""
			for _, l := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(l, "PPid:") || strings.HasPrefix(l, "State:") {
					ppid += strings.Join(strings.Fields(l), " ") + " "
				}
			}
			fmt.Fprintf(&b, "  pid %s: %s %q\n", pid, ppid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return b.String()
}
