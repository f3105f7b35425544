package taskstat

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Agent names one agent as the master knows it.
type Agent struct {
	ID       string
	Hostname string
	Addr     string // host:port of its HTTP API
}

// Container is one entry of an agent's /monitor/statistics.
type Container struct {
	FrameworkID string
	ExecutorID  string
	ContainerID string // empty when the agent does not say
	// TaskID is the entry's `source` (the command executor's task), or the
	// executor id when the agent left it empty.
	TaskID string
	Sample Sample
}

// ParseStatistics decodes a /monitor/statistics answer received at at.
func ParseStatistics(body []byte, at time.Time) ([]Container, error) {
	var entries []struct {
		ExecutorID  string          `json:"executor_id"`
		FrameworkID string          `json:"framework_id"`
		Source      string          `json:"source"`
		ContainerID string          `json:"container_id"`
		Statistics  json.RawMessage `json:"statistics"`
	}
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("decode monitor statistics: %w", err)
	}
	out := make([]Container, 0, len(entries))
	for _, e := range entries {
		st := Stats{}
		if len(e.Statistics) > 0 && string(e.Statistics) != "null" {
			var err error
			if st, err = ParseStats(e.Statistics); err != nil {
				return nil, fmt.Errorf("executor %s: %w", e.ExecutorID, err)
			}
		}
		task := cmp.Or(e.Source, e.ExecutorID)
		out = append(out, Container{FrameworkID: e.FrameworkID, ExecutorID: e.ExecutorID, ContainerID: e.ContainerID, TaskID: task,
			Sample: Sample{At: st.Time(at), Stats: st}})
	}
	return out, nil
}

// Poll is one agent's answer to one round of polling; Err when it had none.
type Poll struct {
	Agent      Agent
	Containers []Container
	Err        error
}

// Value is a metric's value; OK is false when it could not be measured.
type Value struct {
	V  float64
	OK bool
}

// Row is one task of `cairn top`: its identity and a Value per entry of
// Metrics, in that order.
type Row struct {
	FrameworkID   string
	FrameworkName string
	Agent         Agent
	ExecutorID    string
	ContainerID   string
	TaskID        string
	Values        []Value
}

// Get returns the row's value of the named metric.
func (r Row) Get(name string) Value {
	for i, m := range Metrics {
		if m.Name == name && i < len(r.Values) {
			return r.Values[i]
		}
	}
	return Value{}
}

type containerKey struct{ agent, framework, executor string }

// Rows builds one row per container of cur, with rates against the same
// container in prev (the round before; nil for none). names maps framework
// ids to names. Agents whose poll failed come back as down.
func Rows(prev, cur []Poll, names map[string]string) (rows []Row, down []Poll) {
	before := map[containerKey]*Sample{}
	for _, p := range prev {
		for i := range p.Containers {
			c := &p.Containers[i]
			before[containerKey{p.Agent.ID, c.FrameworkID, c.ExecutorID}] = &c.Sample
		}
	}
	for _, p := range cur {
		if p.Err != nil {
			down = append(down, p)
			continue
		}
		for _, c := range p.Containers {
			old := before[containerKey{p.Agent.ID, c.FrameworkID, c.ExecutorID}]
			r := Row{FrameworkID: c.FrameworkID, FrameworkName: names[c.FrameworkID], Agent: p.Agent,
				ExecutorID: c.ExecutorID, ContainerID: c.ContainerID, TaskID: c.TaskID, Values: make([]Value, len(Metrics))}
			for i, m := range Metrics {
				r.Values[i].V, r.Values[i].OK = m.Value(old, c.Sample)
			}
			rows = append(rows, r)
		}
	}
	return rows, down
}

// Filter keeps rows whose framework and agent match; an empty field
// matches all. A pattern matches an id or name it equals or begins.
type Filter struct {
	Framework string
	Agent     string
}

func matches(pattern string, names ...string) bool {
	if pattern == "" {
		return true
	}
	for _, n := range names {
		if n != "" && strings.HasPrefix(n, pattern) {
			return true
		}
	}
	return false
}

// Apply returns the rows f keeps, in order.
func (f Filter) Apply(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		if matches(f.Framework, r.FrameworkID, r.FrameworkName) &&
			matches(f.Agent, r.Agent.ID, r.Agent.Hostname, r.Agent.Addr) {
			out = append(out, r)
		}
	}
	return out
}

// SortKeys maps each --sort value to the metric it orders by ("" for the
// ones ordered by name).
var SortKeys = map[string]string{
	"cpu": "cpu_percent", "mem": "mem_rss_bytes", "rx": "net_rx_bytes_per_second",
	"tx": "net_tx_bytes_per_second", "rq": "runqueue_delay_p99_secs",
	"task": "", "framework": "", "agent": "",
}

// Sort orders rows in place by key (one of SortKeys): metrics largest
// first with unmeasured rows last, names in ascending order; ties by task
// id, then agent.
func Sort(rows []Row, key string) error {
	metric, ok := SortKeys[key]
	if !ok {
		return fmt.Errorf("unknown sort key %q (want cpu, mem, rx, tx, rq, task, framework or agent)", key)
	}
	byName := func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.TaskID, b.TaskID), cmp.Compare(a.Agent.ID, b.Agent.ID),
			cmp.Compare(a.ExecutorID, b.ExecutorID))
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		switch key {
		case "framework":
			return cmp.Or(cmp.Compare(cmp.Or(a.FrameworkName, a.FrameworkID), cmp.Or(b.FrameworkName, b.FrameworkID)), byName(a, b))
		case "agent":
			return cmp.Or(cmp.Compare(cmp.Or(a.Agent.Hostname, a.Agent.ID), cmp.Or(b.Agent.Hostname, b.Agent.ID)), byName(a, b))
		case "task":
			return byName(a, b)
		}
		va, vb := a.Get(metric), b.Get(metric)
		switch {
		case va.OK && !vb.OK:
			return -1
		case !va.OK && vb.OK:
			return 1
		case va.OK && va.V != vb.V:
			return cmp.Compare(vb.V, va.V)
		}
		return byName(a, b)
	})
	return nil
}

// MarshalJSON writes the row as one flat object: identity fields, then
// every metric of Metrics by name, null when unmeasured.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, f := range [][2]string{
		{"framework_id", r.FrameworkID}, {"framework_name", r.FrameworkName},
		{"agent_id", r.Agent.ID}, {"agent_hostname", r.Agent.Hostname},
		{"executor_id", r.ExecutorID}, {"container_id", r.ContainerID}, {"task_id", r.TaskID},
	} {
		writeField(&b, f[0], f[1])
		b.WriteByte(',')
	}
	for i, m := range Metrics {
		if i > 0 {
			b.WriteByte(',')
		}
		var v *float64
		if i < len(r.Values) && r.Values[i].OK {
			v = &r.Values[i].V
		}
		writeField(&b, m.Name, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeField(b *bytes.Buffer, name string, v any) {
	k, _ := json.Marshal(name)
	val, _ := json.Marshal(v)
	b.Write(k)
	b.WriteByte(':')
	b.Write(val)
}
