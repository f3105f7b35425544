package taskstat

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// History is an agent's /monitor/history answer: one task's samples, oldest
// first.
type History struct {
	FrameworkID string
	ExecutorID  string
	TaskID      string
	ContainerID string
	Samples     []Sample
}

// ParseHistory decodes a /monitor/history answer. A sample without a
// `timestamp` is placed one second after the one before it, the agent's
// sampling period, so rates stay computable.
func ParseHistory(body []byte) (History, error) {
	var raw struct {
		FrameworkID string            `json:"framework_id"`
		ExecutorID  string            `json:"executor_id"`
		TaskID      string            `json:"task_id"`
		ContainerID string            `json:"container_id"`
		Samples     []json.RawMessage `json:"samples"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return History{}, fmt.Errorf("decode monitor history: %w", err)
	}
	h := History{FrameworkID: raw.FrameworkID, ExecutorID: raw.ExecutorID, TaskID: raw.TaskID, ContainerID: raw.ContainerID}
	var last time.Time
	for i, s := range raw.Samples {
		st, err := ParseStats(s)
		if err != nil {
			return History{}, fmt.Errorf("sample %d: %w", i, err)
		}
		at := st.Time(last.Add(time.Second))
		h.Samples = append(h.Samples, Sample{At: at, Stats: st})
		last = at
	}
	return h, nil
}

// Series is one metric over a history: a value per sample (a rate has none
// at the first), the latest measured value, and the extremes.
type Series struct {
	Metric            Metric
	Values            []Value
	Current, Min, Max Value
}

// SeriesOf computes every metric of Metrics over samples.
func SeriesOf(samples []Sample) []Series {
	out := make([]Series, 0, len(Metrics))
	for _, m := range Metrics {
		s := Series{Metric: m, Values: make([]Value, len(samples))}
		for i := range samples {
			var prev *Sample
			if i > 0 {
				prev = &samples[i-1]
			}
			v, ok := m.Value(prev, samples[i])
			if !ok {
				continue
			}
			s.Values[i] = Value{V: v, OK: true}
			s.Current = s.Values[i]
			if !s.Min.OK || v < s.Min.V {
				s.Min = s.Values[i]
			}
			if !s.Max.OK || v > s.Max.V {
				s.Max = s.Values[i]
			}
		}
		out = append(out, s)
	}
	return out
}

// SeriesTable writes one line per metric: its name, current, min and max
// values and a sparkline of sparkWidth cells. Metrics never measured over
// the window are left out.
func SeriesTable(w io.Writer, series []Series, sparkWidth int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tNOW\tMIN\tMAX\tHISTORY")
	for _, s := range series {
		if !s.Max.OK {
			continue
		}
		u := s.Metric.Unit
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Metric.Name, Format(u, s.Current), Format(u, s.Min), Format(u, s.Max),
			Sparkline(s.Values, sparkWidth))
	}
	return tw.Flush()
}

// UnitName is a unit's name in JSON output.
func UnitName(u Unit) string {
	switch u {
	case Percent:
		return "percent"
	case Seconds:
		return "seconds"
	case Bytes:
		return "bytes"
	case BytesPerSecond:
		return "bytes_per_second"
	case PerSecond:
		return "per_second"
	case CPUs:
		return "cpus"
	}
	return "unknown"
}

// MarshalJSON writes {name, unit, current, min, max, values}, with null
// for what was not measured.
func (s Series) MarshalJSON() ([]byte, error) {
	ptr := func(v Value) *float64 {
		if !v.OK {
			return nil
		}
		return &v.V
	}
	values := make([]*float64, len(s.Values))
	for i, v := range s.Values {
		values[i] = ptr(v)
	}
	return json.Marshal(struct {
		Name    string     `json:"name"`
		Unit    string     `json:"unit"`
		Current *float64   `json:"current"`
		Min     *float64   `json:"min"`
		Max     *float64   `json:"max"`
		Values  []*float64 `json:"values"`
	}{s.Metric.Name, UnitName(s.Metric.Unit), ptr(s.Current), ptr(s.Min), ptr(s.Max), values})
}
