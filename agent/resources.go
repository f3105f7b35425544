package agent

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

// hostFacts are what resource detection reads from the machine; a value
// so detection is a pure function and tests pass their own.
type hostFacts struct {
	CPUs   int
	MemMB  float64 // total physical memory
	DiskMB float64 // size of the work_dir filesystem
	// NetMbps is the egress link's speed in Mbit/s, read only when the
	// agent shapes bandwidth (network/bandwidth); 0 offers none.
	NetMbps float64
}

func readHostFacts(workDir string) (hostFacts, error) {
	f := hostFacts{CPUs: runtime.NumCPU()}
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return f, fmt.Errorf("read memory size: %w", err)
	}
	f.MemMB = float64(uint64(si.Totalram)*uint64(si.Unit)) / (1 << 20)
	var st syscall.Statfs_t
	if err := syscall.Statfs(workDir, &st); err != nil {
		return f, fmt.Errorf("read size of %s: %w", workDir, err)
	}
	f.DiskMB = float64(st.Blocks*uint64(st.Bsize)) / (1 << 20)
	return f, nil
}

// totalResources parses --resources and fills what it does not name as
// Mesos does: cpus = cores; mem = total − 1 GB when total ≥ 2 GB, else half;
// disk = filesystem − 5 GB when ≥ 10 GB, else half; ports [31000-32000];
// and, Cairn's, network_bandwidth = the egress link's speed when known.
func totalResources(flag string, host hostFacts) (resources.Resources, error) {
	given, err := resources.Parse(flag)
	if err != nil {
		return resources.Resources{}, fmt.Errorf("parse --resources: %w", err)
	}
	has := map[string]bool{}
	for r := range given.All() {
		has[r.Name] = true
	}
	var add []resources.Resource
	if !has["cpus"] {
		add = append(add, resources.NewScalar("cpus", float64(host.CPUs)))
	}
	if !has["mem"] {
		mem := host.MemMB / 2
		if host.MemMB >= 2048 {
			mem = host.MemMB - 1024
		}
		add = append(add, resources.NewScalar("mem", float64(int64(mem))))
	}
	if !has["disk"] {
		disk := host.DiskMB / 2
		if host.DiskMB >= 10240 {
			disk = host.DiskMB - 5120
		}
		add = append(add, resources.NewScalar("disk", float64(int64(disk))))
	}
	if !has["ports"] {
		add = append(add, resources.NewRanges("ports", resources.Range{Begin: 31000, End: 32000}))
	}
	if !has[netbwResource] && host.NetMbps > 0 {
		add = append(add, resources.NewScalar(netbwResource, float64(int64(host.NetMbps))))
	}
	detected, err := resources.New(add...)
	if err != nil {
		return resources.Resources{}, fmt.Errorf("detect resources: %w", err)
	}
	return given.Add(detected), nil
}

// parseAttributes reads --attributes, "name:value;name:value", typing each
// value as Mesos does: "[a-b,...]" RANGES, "{a,b}" SET, a number SCALAR,
// anything else TEXT.
func parseAttributes(s string) ([]*mesospb.Attribute, error) {
	var out []*mesospb.Attribute
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("attribute %q is not name:value", part)
		}
		a := &mesospb.Attribute{Name: proto.String(name)}
		switch {
		case strings.HasPrefix(value, "[") && strings.HasSuffix(value, "]"):
			rs, err := parseRanges(value[1 : len(value)-1])
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", name, err)
			}
			a.Type = mesospb.Value_RANGES.Enum()
			a.Ranges = rs
		case strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}"):
			set := &mesospb.Value_Set{}
			for _, item := range strings.Split(value[1:len(value)-1], ",") {
				if item = strings.TrimSpace(item); item != "" {
					set.Item = append(set.Item, item)
				}
			}
			a.Type = mesospb.Value_SET.Enum()
			a.Set = set
		default:
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				a.Type = mesospb.Value_SCALAR.Enum()
				a.Scalar = &mesospb.Value_Scalar{Value: proto.Float64(v)}
			} else {
				a.Type = mesospb.Value_TEXT.Enum()
				a.Text = &mesospb.Value_Text{Value: proto.String(value)}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func parseRanges(s string) (*mesospb.Value_Ranges, error) {
	rs := &mesospb.Value_Ranges{}
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		lo, hi, ok := strings.Cut(r, "-")
		b, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		e, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 64)
		if !ok || err1 != nil || err2 != nil || e < b {
			return nil, fmt.Errorf("range %q is not begin-end", r)
		}
		rs.Range = append(rs.Range, &mesospb.Value_Range{Begin: proto.Uint64(b), End: proto.Uint64(e)})
	}
	return rs, nil
}

// applyCheckpointed returns total with its dynamic reservations replaced by
// the checkpointed resources cps (Mesos's rule: they are carved out of the
// unreserved resources the agent's flags give). cps may hold only dynamic
// reservations, persistent volumes among them; a volume counts as the
// reserved disk it sits on. An error means cps do not fit total.
func applyCheckpointed(total resources.Resources, cps []*mesospb.Resource) (resources.Resources, error) {
	plain := make([]*mesospb.Resource, len(cps))
	for i, r := range cps {
		c := proto.Clone(r).(*mesospb.Resource)
		c.Disk, c.AllocationInfo = nil, nil
		plain[i] = c
	}
	want, err := resources.FromProto(plain)
	if err != nil {
		return resources.Resources{}, fmt.Errorf("checkpointed resources: %w", err)
	}
	for r := range want.All() {
		if !r.Dynamic {
			return resources.Resources{}, fmt.Errorf("checkpointed resource %s is not a dynamic reservation", r)
		}
	}
	dyn := total.Filter(func(r resources.Resource) bool { return r.Dynamic })
	base := total.Subtract(dyn).Add(dyn.ToUnreserved())
	need := want.ToUnreserved()
	if !base.Contains(need) {
		return resources.Resources{}, fmt.Errorf("checkpointed resources %s do not fit the agent's unreserved resources %s",
			want, base.Unreserved())
	}
	return base.Subtract(need).Add(want), nil
}

// resourcesNamed says whether the --resources flag names the resource; a
// flag that does not parse names nothing (totalResources reports it).
func resourcesNamed(flag, name string) bool {
	given, err := resources.Parse(flag)
	if err != nil {
		return false
	}
	for r := range given.All() {
		if r.Name == name {
			return true
		}
	}
	return false
}
