package agent

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Checkpointed resources: the dynamic reservations and persistent volumes
// the master asks the agent to keep (Mesos's CheckpointResourcesMessage).
// The agent persists them (checkpoint.Store.WriteResources) before it
// applies them to its total, so what it reports — AgentState.agent_info
// .resources, gossip, /state — is always what a restart recovers. Volumes
// get a directory under work_dir/volumes/roles/<role>/<id>, removed when
// the master no longer lists them (DESTROY).

// resourceRoutes registers the internal endpoints that change the agent's
// checkpointed resources (reservations and volumes applied by the master).
func (a *Agent) resourceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/internal/v1/checkpoint_resources", internalPost(a,
		func() *internalpb.CheckpointResources { return &internalpb.CheckpointResources{} }, a.checkpointResources))
}

// checkpointResources handles POST /internal/v1/checkpoint_resources on the
// loop: 400 for another agent id or resources that do not fit the agent,
// 500 when they cannot be persisted (the master retries).
func (a *Agent) checkpointResources(st *state, m *internalpb.CheckpointResources) error {
	if id := ids.AgentID(m.GetAgentId().GetValue()); id != st.agentID {
		return badRequest("checkpoint_resources for agent %s, this is agent %s", id, st.agentID)
	}
	total, err := applyCheckpointed(a.total, m.GetResources())
	if err != nil {
		return badRequest("%v", err)
	}
	old, _, _ := a.ckpt.ReadResources()
	if err := a.ckpt.WriteResources(m.GetResources()); err != nil {
		a.checkpointErrors.Add(1)
		return fmt.Errorf("checkpoint resources: %w", err)
	}
	a.syncVolumes(old, m.GetResources())
	a.total = total
	a.log.Info("checkpointed resources applied", "agent_id", st.agentID, "resources", total.String(),
		"volumes", len(volumes(m.GetResources())))
	a.availabilityChanged()
	return nil
}

// recoverResources applies what an earlier agent checkpointed to the total
// its flags give, before the agent serves. Resources that no longer fit
// (--resources shrank) stop the start, as in Mesos: the operator must
// move meta/resources/resources.info away to drop them. A corrupt file
// stops a --strict start; otherwise it is skipped and counted.
func (a *Agent) recoverResources() error {
	cps, ok, err := a.ckpt.ReadResources()
	if err != nil {
		if errors.Is(err, checkpoint.ErrCorrupt) && !a.cfg.Strict {
			a.recoveryErrors.Add(1)
			a.log.Error("corrupt checkpointed resources skipped", "err", err)
			return nil
		}
		return err
	}
	if !ok {
		return nil
	}
	total, err := applyCheckpointed(a.total, cps)
	if err != nil {
		return fmt.Errorf("%w (move %s away to start without them)", err,
			filepath.Join(a.ckpt.Dir(), "resources", "resources.info"))
	}
	a.syncVolumes(nil, cps)
	a.total = total
	a.log.Info("checkpointed resources recovered", "resources", total.String(), "volumes", len(volumes(cps)))
	return nil
}

func volumes(rs []*mesospb.Resource) []*mesospb.Resource {
	var out []*mesospb.Resource
	for _, r := range rs {
		if r.GetDisk().GetPersistence() != nil {
			out = append(out, r)
		}
	}
	return out
}

// volumePath is Mesos's layout: a "/" of a hierarchical role becomes a
// space, so that subroles are not directories.
func (a *Agent) volumePath(v *mesospb.Resource) string {
	role := v.GetRole()
	if n := len(v.GetReservations()); n > 0 {
		role = v.GetReservations()[n-1].GetRole()
	}
	return filepath.Join(a.cfg.WorkDir, "volumes", "roles", strings.ReplaceAll(role, "/", " "),
		v.GetDisk().GetPersistence().GetId())
}

// syncVolumes creates the directories of the volumes in cur and removes
// those of volumes in old that cur no longer has. Failures are logged: the
// volume's data is the framework's, never worth refusing the checkpoint.
func (a *Agent) syncVolumes(old, cur []*mesospb.Resource) {
	keep := map[string]bool{}
	for _, v := range volumes(cur) {
		p := a.volumePath(v)
		keep[p] = true
		if err := os.MkdirAll(p, 0o755); err != nil {
			a.log.Warn("create persistent volume", "path", p, "err", err)
		}
	}
	for _, v := range volumes(old) {
		if p := a.volumePath(v); !keep[p] {
			if err := os.RemoveAll(p); err != nil {
				a.log.Warn("remove destroyed persistent volume", "path", p, "err", err)
			} else {
				a.log.Info("persistent volume removed", "path", p)
			}
		}
	}
}
