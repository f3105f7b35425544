package isolators

// DefaultPidsMax is the default of the agent flag --cgroups_pids_max.
const DefaultPidsMax = 4096

// Pids is the cgroups/pids isolator: a fixed ceiling on the number of tasks
// (processes and threads) per container, so a fork bomb stays inside its
// container. The ceiling does not depend on the request.
type Pids struct {
	Max int64 // <= 0: no limit
}

// Name implements Isolator.
func (Pids) Name() string { return "cgroups/pids" }

// Spec implements Isolator. It sets PidsMax (or nothing when Max <= 0).
func (p Pids) Spec(_ Request, l *Limits) error {
	if p.Max > 0 {
		l.PidsMax = p.Max
	}
	return nil
}
