package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/agent/fetcher"
	"github.com/cairnhq/cairn/api/mesospb"
)

// fetchTimeout bounds the fetch of one container's URIs (all of them), so a
// stalled download fails the launch instead of holding it forever. The
// executor registration timeout does not run for a container that is not
// launched yet, so this is the only bound.
const fetchTimeout = 10 * time.Minute

// urisOf are the URIs a new container needs in its sandbox: the command
// task's own, or the framework executor's (Mesos fetches the executor's
// CommandInfo.uris; tasks of a custom executor have no command).
func urisOf(t *mesospb.TaskInfo, execInfo *mesospb.ExecutorInfo, command bool) []*mesospb.CommandInfo_URI {
	if command {
		return t.GetCommand().GetUris()
	}
	return execInfo.GetCommand().GetUris()
}

// fetchInto creates the sandbox and puts the URIs into it, before the
// container starts (and outside the launch slots: a download must not hold
// up other launches). A failure fails the launch, which reports the tasks
// TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED and the fetcher's
// message naming the URI.
func (a *Agent) fetchInto(ctx context.Context, sandbox string, uris []*mesospb.CommandInfo_URI) error {
	if len(uris) == 0 {
		return nil
	}
	if err := makeSandbox(sandbox); err != nil {
		return err
	}
	start := time.Now()
	if err := fetcher.New(fetcher.Config{Timeout: fetchTimeout}).Fetch(ctx, uris, sandbox); err != nil {
		return fmt.Errorf("fetch URIs: %w", err)
	}
	a.log.Debug("URIs fetched", "sandbox", sandbox, "uris", len(uris), "took", time.Since(start).String())
	return nil
}
