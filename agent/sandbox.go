package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
)

// sandboxDir is Mesos's layout:
// <work_dir>/slaves/<agent>/frameworks/<fw>/executors/<exec>/runs/<container>.
func sandboxDir(workDir string, agent ids.AgentID, fw ids.FrameworkID, exec ids.ExecutorID, c ids.ContainerID) string {
	return filepath.Join(workDir, "slaves", string(agent), "frameworks", string(fw),
		"executors", string(exec), "runs", string(c))
}

// makeSandbox creates the sandbox, its stdout and stderr files, and points
// runs/latest at it.
func makeSandbox(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create sandbox: %w", err)
	}
	for _, name := range []string{"stdout", "stderr"} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("create sandbox %s: %w", name, err)
		}
		f.Close()
	}
	latest := filepath.Join(filepath.Dir(dir), "latest")
	tmp := latest + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return fmt.Errorf("link runs/latest: %w", err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		return fmt.Errorf("link runs/latest: %w", err)
	}
	return nil
}

// containerSpec prepares the sandbox and describes the executor's container.
func (a *Agent) containerSpec(agentID ids.AgentID, fw *mesospb.FrameworkInfo, e *executor, req containerRequest) (containerizer.Spec, error) {
	if err := makeSandbox(e.sandbox); err != nil {
		return containerizer.Spec{}, err
	}
	limits, err := a.isolation.Spec(isolators.Request{CPUs: req.cpus, MemMB: req.memMB, QuotaCPUs: req.quotaCPUs})
	if err != nil {
		return containerizer.Spec{}, fmt.Errorf("compute limits: %w", err)
	}
	inside := a.ctr.SandboxPath(e.sandbox)
	checkpoint := "0"
	if fw.GetCheckpoint() {
		checkpoint = "1"
	}
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + inside,
		"MESOS_FRAMEWORK_ID=" + fw.GetId().GetValue(),
		"MESOS_EXECUTOR_ID=" + string(e.core.ID),
		"MESOS_DIRECTORY=" + e.sandbox,
		"MESOS_SANDBOX=" + inside,
		"MESOS_AGENT_ENDPOINT=" + a.endpoint(),
		"MESOS_CHECKPOINT=" + checkpoint,
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=" + mesosDuration(a.cfg.ExecutorShutdownGracePeriod.Seconds()),
		"MESOS_CONTAINER_ID=" + string(e.container),
		"MESOS_SLAVE_ID=" + string(agentID),
		"MESOS_AGENT_ID=" + string(agentID),
	}
	if fw.GetCheckpoint() {
		// The executor waits this long for a restarting agent, retrying
		// often enough to re-subscribe within the re-registration timeout.
		env = append(env,
			"MESOS_RECOVERY_TIMEOUT="+mesosDuration(a.cfg.RecoveryTimeout.Seconds()),
			"MESOS_SUBSCRIPTION_BACKOFF_MAX="+mesosDuration((a.cfg.ExecutorReregistrationTimeout/2).Seconds()))
	}
	env = append(env, req.env...)
	return containerizer.Spec{
		ID:      e.container,
		Sandbox: e.sandbox,
		Args:    req.args,
		Env:     env,
		Binds:   req.binds,
		Stdout:  filepath.Join(e.sandbox, "stdout"),
		Stderr:  filepath.Join(e.sandbox, "stderr"),
		Limits:  limits,
	}, nil
}

// endpoint is the agent's HTTP ip:port as executors reach it.
func (a *Agent) endpoint() string {
	return a.ip + ":" + strconv.Itoa(int(a.addr.Port()))
}

// mesosDuration writes seconds in Mesos's duration syntax ("5secs").
func mesosDuration(secs float64) string {
	return strconv.FormatFloat(secs, 'f', -1, 64) + "secs"
}
