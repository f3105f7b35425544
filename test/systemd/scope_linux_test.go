package systemd

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/test/cluster"
)

// TestSystemdScopes runs the agent with the systemd cgroups driver under a
// real systemd: the task's container must sit in a transient scope of its
// own in cairn.slice (not in the agent's unit), with the task's limits on
// the scope and in its cgroup files, through a restart of the agent unit;
// once the task dies, the agent destroys the container and the scope and
// its cgroups must be gone.
//
// The booted systemd gets the host's layout. On a pure v2 host the agent
// runs with the default --cgroups_driver=auto, which must pick systemd. On
// v1 and hybrid hosts (this project's machines) auto keeps cgroupfs, so the
// driver is forced with CAIRN_CGROUPS_DRIVER=systemd. A pure v2 systemd
// boots here too, but with no controller in its cgroup2 hierarchy (the
// host's v1 hierarchies hold cpu, memory and pids), and the agent refuses to
// start without them.
func TestSystemdScopes(t *testing.T) {
	kerneltest.Root(t)
	c := bootSystemd(t, cluster.Binary(t))
	c.v2 = c.must("stat", "-fc", "%T", "/sys/fs/cgroup") == "cgroup2fs"
	env := agentEnv
	if !c.v2 {
		env += "CAIRN_CGROUPS_DRIVER=systemd\n"
	}
	c.writeFile("/etc/default/cairn-master", masterEnv)
	c.writeFile("/etc/default/cairn-agent", env)
	for _, u := range []string{"cairn-master", "cairn-agent"} {
		c.writeFile("/etc/systemd/system/"+u+".service.d/test.conf", testDropIn)
	}
	c.must("systemctl", "daemon-reload")
	t.Cleanup(func() { saveJournal(c) })
	for _, u := range []string{"cairn-master.service", "cairn-agent.service"} {
		if out, err := c.run("systemctl", "start", u); err != nil {
			t.Fatalf("start %s: %v\n%s\n%s", u, err, out, c.status(u))
		}
	}
	if out, _ := c.run("journalctl", "-u", "cairn-agent.service", "CGROUP_DRIVER=systemd", "-o", "cat", "--no-pager"); !strings.Contains(out, "containerizer ready") {
		t.Fatalf("the agent did not log cgroup_driver=systemd; its journal:\n%s", c.journal("cairn-agent.service"))
	}

	pid, start := c.startTask(t)
	scope := c.scopeOf(t, pid)
	c.checkScope(t, scope, pid)
	c.checkLimits(t, scope)

	if out, err := c.run("systemctl", "restart", "cairn-agent.service"); err != nil {
		t.Fatalf("restart cairn-agent: %v\n%s\n%s", err, out, c.status("cairn-agent.service"))
	}
	// One look, right after the restart: see the note at the kill below.
	after := c.snapshot(t, pid, scope)
	if after.start != start {
		t.Fatalf("task process %s did not survive `systemctl restart cairn-agent` (start time now %q, was %q)", pid, after.start, start)
	}
	if got := scopeIn(t, pid, after.cgroup, c.v2); got != scope {
		t.Fatalf("after the agent's restart the task is in %s, was in %s", got, scope)
	}
	if after.active != "active" || !slices.Contains(strings.Fields(after.procs), pid) {
		t.Fatalf("after the agent's restart %s is %q with processes %q, want active with %s", scope, after.active, after.procs, pid)
	}
	// The new agent re-attached to the container and found its cgroups in
	// the scope (from libcontainer's state).
	waitFor(t, "the restarted agent to recover the container in "+scope, func() bool {
		out, _ := c.run("journalctl", "-u", "cairn-agent.service", "-o", "cat", "--no-pager", "-g", "container recovered")
		return strings.Contains(out, "/cairn.slice/"+scope)
	}, func() string { return c.journal("cairn-agent.service") })

	// The task dies: the executor reports it and exits, the agent destroys
	// the container, and systemd forgets the scope.
	// (The kill may find the task gone already: today the master removes
	// an agent that stops gracefully, cairn run gets TASK_LOST and exits,
	// and its task is shut down once the agent is back; either way the
	// task ends and its scope must go.)
	if out, err := c.run("kill", "-KILL", pid); err != nil && c.procStart(pid) != "" {
		t.Fatalf("kill the task: %v\n%s", err, out)
	}
	waitFor(t, "scope "+scope+" to be gone", func() bool {
		out, _ := c.run("systemctl", "list-units", "--all", "--no-legend", "--plain", scope)
		return !strings.Contains(out, scope)
	}, func() string { return c.status(scope) + "\n" + c.journal("cairn-agent.service") })
	// No cgroup directory of the scope is left behind in any hierarchy,
	// including those libcontainer made itself (systemd does not manage
	// freezer or cpuset on v1).
	left := func() string {
		out, _ := c.run("sh", "-c", "ls -d /sys/fs/cgroup/cairn.slice/"+scope+" /sys/fs/cgroup/*/cairn.slice/"+scope+" 2>/dev/null")
		return out
	}
	waitFor(t, "the agent to remove the scope's cgroups", func() bool { return left() == "" },
		func() string { return "left: " + left() + "\n" + c.journal("cairn-agent.service") })

	// A stopped agent (Close) leaves no cairn.slice directory in the v1
	// hierarchies systemd does not manage (where systemd placed nobody,
	// the master included): libcontainer made those.
	c.must("systemctl", "stop", "cairn-agent.service")
	master := c.must("sh", "-c", "cat /proc/$(systemctl show -P MainPID cairn-master.service)/cgroup")
	unmanaged := 0
	for line := range strings.Lines(master) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || parts[1] == "" || strings.HasPrefix(parts[1], "name=") || parts[2] != "/" {
			continue
		}
		unmanaged++
		if out, err := c.run("ls", "-d", "/sys/fs/cgroup/"+parts[1]+"/cairn.slice"); err == nil {
			t.Errorf("the stopped agent left %s", out)
		}
	}
	if !c.v2 && unmanaged == 0 {
		t.Logf("systemd manages every v1 hierarchy here: nothing for Close to remove")
	}
}

// scopeOf returns the cairn-*.scope unit that process pid (in the
// container) is in.
func (c *container) scopeOf(t *testing.T, pid string) string {
	t.Helper()
	return scopeIn(t, pid, c.must("cat", "/proc/"+pid+"/cgroup"), c.v2)
}

// snap is what snapshot reads in one go.
type snap struct {
	start  string // the process's start time (procStart)
	cgroup string // its /proc/<pid>/cgroup
	active string // the scope's ActiveState
	procs  string // the scope's cgroup.procs
}

// snapshot reads a task process's start time and cgroups and its scope's
// state and processes in one command, so that they describe one moment.
func (c *container) snapshot(t *testing.T, pid, scope string) snap {
	t.Helper()
	const script = `cat /proc/$1/stat; echo @@; cat /proc/$1/cgroup; echo @@; systemctl show -P ActiveState "$2"; echo @@; cat "$3"`
	out, err := c.run("sh", "-c", script, "sh", pid, scope, c.cgroupFile("systemd", scope, "cgroup.procs"))
	parts := strings.Split(out, "@@")
	if err != nil || len(parts) != 4 {
		t.Fatalf("snapshot of task %s and %s: %v\n%s", pid, scope, err, out)
	}
	s := snap{cgroup: parts[1], active: strings.TrimSpace(parts[2]), procs: parts[3]}
	if i := strings.LastIndexByte(parts[0], ')'); i >= 0 {
		if f := strings.Fields(parts[0][i+1:]); len(f) > 19 {
			s.start = f[19]
		}
	}
	return s
}

// scopeIn returns the cairn-*.scope unit in a /proc/<pid>/cgroup text,
// from the memory hierarchy (the v2 one on pure v2), failing the test when
// the process is in none or in one not directly in cairn.slice.
func scopeIn(t *testing.T, pid, out string, v2 bool) string {
	t.Helper()
	hierarchy := "memory"
	if v2 {
		hierarchy = ""
	}
	for line := range strings.Lines(out) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || parts[1] != hierarchy {
			continue
		}
		for el := range strings.SplitSeq(parts[2], "/") {
			if strings.HasPrefix(el, "cairn-") && strings.HasSuffix(el, ".scope") {
				if !strings.HasPrefix(parts[2], "/cairn.slice/"+el) {
					t.Fatalf("task %s's scope %s is not directly in cairn.slice: %s", pid, el, parts[2])
				}
				return el
			}
		}
		t.Fatalf("task %s's memory cgroup %s is no cairn-*.scope (systemd cgroups driver not used?)", pid, parts[2])
	}
	t.Fatalf("task %s has no memory cgroup:\n%s", pid, out)
	return ""
}

// checkScope checks that scope is an active transient unit of cairn.slice,
// delegated, that holds pid and not the agent.
func (c *container) checkScope(t *testing.T, scope, pid string) {
	t.Helper()
	if out := c.must("systemctl", "list-units", "--no-legend", "--plain", "cairn-*.scope"); !strings.Contains(out, scope) {
		t.Fatalf("systemctl list-units 'cairn-*.scope' does not list %s:\n%s", scope, out)
	}
	for prop, want := range map[string]string{
		"ActiveState":  "active",
		"Transient":    "yes",
		"Slice":        "cairn.slice",
		"Delegate":     "yes",
		"ControlGroup": "/cairn.slice/" + scope,
	} {
		if got := c.show(scope, prop); got != want {
			t.Errorf("%s: %s=%q, want %q", scope, prop, got, want)
		}
	}
	procs := c.must("cat", c.cgroupFile("systemd", scope, "cgroup.procs"))
	if !slices.Contains(strings.Fields(procs), pid) {
		t.Errorf("task pid %s is not in %s's cgroup (procs %q)", pid, scope, procs)
	}
	agent := c.show("cairn-agent.service", "MainPID")
	if slices.Contains(strings.Fields(procs), agent) {
		t.Errorf("the agent (pid %s) is in the task's scope", agent)
	}
	if got := c.show("cairn-agent.service", "ControlGroup"); got != "/cairn.slice/cairn-agent.service" {
		t.Errorf("cairn-agent.service's cgroup is %s", got)
	}
}

// checkLimits checks that the task's limits are the scope's unit
// properties and are written to its cgroup files (enforced there: on this
// host v1 holds the controllers).
func (c *container) checkLimits(t *testing.T, scope string) {
	t.Helper()
	memProp, memFile := "MemoryLimit", c.cgroupFile("memory", scope, "memory.limit_in_bytes")
	if c.v2 {
		memProp, memFile = "MemoryMax", c.cgroupFile("", scope, "memory.max")
	}
	prop, file := c.show(scope, memProp), c.must("cat", memFile)
	if mem, err := strconv.ParseInt(file, 10, 64); err != nil || mem <= 0 || mem > 1<<30 {
		t.Errorf("%s = %q: no task memory limit", memFile, file)
	}
	if prop != file {
		t.Errorf("%s: %s=%s but %s=%s", scope, memProp, prop, memFile, file)
	}
	tasks, pidsMax := c.show(scope, "TasksMax"), c.must("cat", c.cgroupFile("pids", scope, "pids.max"))
	if tasks == "infinity" || tasks != pidsMax {
		t.Errorf("%s: TasksMax=%s, pids.max=%s: want the agent's --cgroups_pids_max in both", scope, tasks, pidsMax)
	}
	if q := c.show(scope, "CPUQuotaPerSecUSec"); q == "infinity" || q == "" {
		t.Errorf("%s: CPUQuotaPerSecUSec=%q: no CPU quota", scope, q)
	}
	if c.v2 {
		if quota := c.must("cat", c.cgroupFile("", scope, "cpu.max")); strings.HasPrefix(quota, "max") {
			t.Errorf("cpu.max of %s = %q: no CPU quota", scope, quota)
		}
		return
	}
	quota := c.must("cat", c.cgroupFile("cpu", scope, "cpu.cfs_quota_us"))
	if n, err := strconv.ParseInt(quota, 10, 64); err != nil || n <= 0 {
		t.Errorf("cpu.cfs_quota_us of %s = %q: no CPU quota", scope, quota)
	}
}

// cgroupFile is the path of a file of scope's cgroup in the container: in
// the v1 hierarchy mounted at /sys/fs/cgroup/<v1>, or on v2 in the one
// hierarchy.
func (c *container) cgroupFile(v1, scope, file string) string {
	if c.v2 {
		return "/sys/fs/cgroup/cairn.slice/" + scope + "/" + file
	}
	return "/sys/fs/cgroup/" + v1 + "/cairn.slice/" + scope + "/" + file
}

func (c *container) journal(unit string) string {
	out, _ := c.run("journalctl", "-u", unit, "-o", "cat", "--no-pager", "-n", "60")
	return out
}

// waitFor polls cond every 100 ms for up to a minute (generous: this is a
// check of an outcome, not of its speed) and fails with what explain says.
func waitFor(t *testing.T, what string, cond func() bool, explain func() string) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s\n%s", what, explain())
}
