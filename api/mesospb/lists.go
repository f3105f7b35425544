package mesospb

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"
)

// Hand-written helpers on the generated types; `go generate` leaves this
// file alone.

// MetricList is the GET_METRICS form of a metrics snapshot (as
// /metrics/snapshot serves it), sorted by name.
func MetricList(snap map[string]float64) []*Metric {
	out := make([]*Metric, 0, len(snap))
	for _, k := range slices.Sorted(maps.Keys(snap)) {
		out = append(out, &Metric{Name: proto.String(k), Value: proto.Float64(snap[k])})
	}
	return out
}

// FlagList is the GET_FLAGS form of a daemon's flags (as /flags serves
// them), sorted by name.
func FlagList(values map[string]string) []*Flag {
	out := make([]*Flag, 0, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		out = append(out, &Flag{Name: proto.String(k), Value: proto.String(values[k])})
	}
	return out
}
