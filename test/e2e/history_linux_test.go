package e2e

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

// A task's history as a framework heard it, and the rules every history
// obeys whatever happens to the daemons.

// heard is one UPDATE as the framework received it.
type heard struct {
	at     time.Time
	status *mesospb.TaskStatus
}

// reliable reports an update that carries a uuid: one the framework must
// acknowledge. Reconciliation answers carry none.
func (h heard) reliable() bool { return len(h.status.GetUuid()) > 0 }

func (h heard) String() string {
	s := h.status
	kind := "reconciliation"
	if h.reliable() {
		kind = fmt.Sprintf("uuid %x", s.GetUuid()[:4])
	}
	reason := ""
	if s.Reason != nil {
		reason = ", " + s.GetReason().String()
	}
	return fmt.Sprintf("%s (%s, %s%s, %q)", s.GetState(), kind, s.GetSource(), reason, s.GetMessage())
}

// updatesByTask groups fw's UPDATE events by task id, in arrival order.
func updatesByTask(fw *framework) map[string][]heard {
	out := map[string][]heard{}
	for _, r := range fw.received(schedulerpb.Event_UPDATE) {
		st := r.ev.GetUpdate().GetStatus()
		id := st.GetTaskId().GetValue()
		out[id] = append(out[id], heard{at: r.at, status: st})
	}
	return out
}

// taskHistory checks one task's updates against the rules every task
// obeys whatever happens to the daemons, and returns the violations:
//   - at most one terminal state, however it was reported (a reliable
//     update, a resend of it, or a reconciliation answer);
//   - per state, at most one uuid (a resend repeats the uuid; a second uuid
//     is the same transition reported twice);
//   - once a terminal state was heard, nothing non-terminal follows.
//
// terminal is the first terminal state heard (TASK_STAGING when none), and
// terminalUUID the uuid of the first reliable update reporting it.
func taskHistory(hs []heard) (terminal mesospb.TaskState, terminalUUID []byte, problems []string) {
	uuids := map[mesospb.TaskState]map[string]bool{}
	ended := false
	for _, h := range hs {
		s := h.status.GetState()
		if h.reliable() {
			if uuids[s] == nil {
				uuids[s] = map[string]bool{}
			}
			uuids[s][string(h.status.GetUuid())] = true
		}
		if s.Terminal() {
			if ended && s != terminal {
				problems = append(problems, fmt.Sprintf("terminal %s after terminal %s", h, terminal))
			}
			if !ended {
				terminal, ended = s, true
			}
			if h.reliable() && terminalUUID == nil && s == terminal {
				terminalUUID = h.status.GetUuid()
			}
			continue
		}
		if ended {
			problems = append(problems, fmt.Sprintf("%s after terminal %s", h, terminal))
		}
	}
	for s, us := range uuids {
		if len(us) > 1 {
			problems = append(problems, fmt.Sprintf("%s reported %d times with different uuids", s, len(us)))
		}
	}
	if !ended {
		terminal = mesospb.TaskState_TASK_STAGING
	}
	return terminal, terminalUUID, problems
}

// describe lists a task's updates for a failure message.
func describe(hs []heard) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.String()
	}
	return strings.Join(parts, " -> ")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runningSince reports a TASK_RUNNING update heard after since (a
// reconciliation answer or a resend) with no terminal one after it.
func runningSince(hs []heard, since time.Time) bool {
	ok := false
	for _, h := range hs {
		if !h.at.After(since) {
			continue
		}
		switch s := h.status.GetState(); {
		case s == mesospb.TaskState_TASK_RUNNING:
			ok = true
		case s.Terminal():
			ok = false
		}
	}
	return ok
}

// hasTerminal reports a terminal update of state want.
func hasTerminal(hs []heard, want mesospb.TaskState) bool {
	for _, h := range hs {
		if h.status.GetState() == want {
			return true
		}
	}
	return false
}

// reliableUUIDs counts the distinct uuids of s among hs.
func reliableUUIDs(hs []heard, s mesospb.TaskState) int {
	seen := map[string]bool{}
	for _, h := range hs {
		if h.reliable() && h.status.GetState() == s {
			seen[string(h.status.GetUuid())] = true
		}
	}
	return len(seen)
}

// firstSubscribedAfter is when fw was first SUBSCRIBED after since (since
// itself when it never was).
func firstSubscribedAfter(fw *framework, since time.Time) time.Time {
	for _, r := range fw.received(schedulerpb.Event_SUBSCRIBED) {
		if r.at.After(since) {
			return r.at
		}
	}
	return since
}
