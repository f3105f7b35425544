package resources

// flattenAlways are the keys the legacy /state map always has, even at zero:
// tools that scrape /state index them without checking.
var flattenAlways = []string{"cpus", "gpus", "mem", "disk"}

// Flatten returns the legacy /state shape of resources, summed over roles:
//
//	{"cpus":4,"gpus":0,"mem":15360,"disk":40000,"ports":"[31000-32000]"}
//
// Scalars are float64, ranges and sets are strings in Mesos's notation
// ("[31000-32000, 40000-40100]", "{a, b}"). cpus, gpus, mem and disk are
// always present.
func (rs Resources) Flatten() map[string]any {
	out := make(map[string]any, len(rs.items)+len(flattenAlways))
	for _, name := range flattenAlways {
		out[name] = float64(0)
	}
	seen := make(map[string]bool, len(rs.items))
	for _, r := range rs.items {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		merged := Resource{Name: r.Name, Type: r.Type}
		switch r.Type {
		case Scalar:
			out[r.Name] = rs.Scalar(r.Name)
			continue
		case Ranges:
			merged.Ranges = rs.Ranges(r.Name)
		case Set:
			merged.Set = rs.SetItems(r.Name)
		}
		// Mesos writes ", " between elements in /state.
		out[r.Name] = merged.valueString(", ")
	}
	return out
}
