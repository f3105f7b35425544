package main

import (
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"google.golang.org/protobuf/proto"
)

func scalarRes(name string, v float64) *mesospb.Resource {
	return &mesospb.Resource{Name: proto.String(name), Type: mesospb.Value_SCALAR.Enum(),
		Scalar: &mesospb.Value_Scalar{Value: proto.Float64(v)}}
}

func TestPrintRoles(t *testing.T) {
	v := roleView{
		roles: []*mesospb.Role{{
			Name: proto.String("eng"), Weight: proto.Float64(2),
			Frameworks: []*mesospb.FrameworkID{{Value: proto.String("f1")}},
			Resources:  []*mesospb.Resource{scalarRes("cpus", 3), scalarRes("mem", 2048)},
		}},
		quotas: []*quotapb.QuotaConfig{{Role: proto.String("ops"),
			Guarantees: map[string]*mesospb.Value_Scalar{"mem": {Value: proto.Float64(512)}, "cpus": {Value: proto.Float64(1)}},
			Limits:     map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(4)}}}},
		frameworks: []*masterpb.Response_GetFrameworks_Framework{{
			FrameworkInfo: &mesospb.FrameworkInfo{Role: proto.String("eng")},
			Offers: []*mesospb.Offer{{
				AllocationInfo: &mesospb.Resource_AllocationInfo{Role: proto.String("eng")},
				Resources:      []*mesospb.Resource{scalarRes("cpus", 1), scalarRes("mem", 512)},
			}},
		}},
		metrics: []*mesospb.Metric{
			{Name: proto.String("allocator/mesos/roles/eng/shares/dominant"), Value: proto.Float64(0.375)},
			{Name: proto.String("allocator/mesos/roles/eng/other"), Value: proto.Float64(9)},
		},
	}
	var b strings.Builder
	printRoles(&b, v)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", b.String())
	}
	want := [][]string{
		{"ROLE", "WEIGHT", "GUARANTEE", "LIMIT", "ALLOCATED", "OFFERED", "SHARE", "FRAMEWORKS"},
		{"eng", "2", "-", "-", "3", "cpus,", "2.0GB", "1", "cpus,", "512MB", "0.375", "1"},
		{"ops", "1", "cpus:1;mem:512", "cpus:4", "-", "-", "-", "0"},
	}
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
}
