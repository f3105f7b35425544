package master

import (
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"google.golang.org/protobuf/proto"
)

// GET_ROLES lists roles with frameworks (weight, frameworks, holdings) and,
// as Mesos does, roles known only by a weight or a quota, sorted by name.
func TestViewRoles(t *testing.T) {
	c := testCore(t)
	admit(t, c, "a1", "cpus:4;mem:1024")
	if err := c.UpdateWeights([]*mesospb.WeightInfo{
		{Role: proto.String("ops"), Weight: proto.Float64(3)},
		{Role: proto.String("eng"), Weight: proto.Float64(2)},
	}); err != nil {
		t.Fatal(err)
	}
	q := &quotapb.QuotaConfig{Role: proto.String("batch"), Limits: map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(1)}}}
	if err := c.UpdateQuota([]*quotapb.QuotaConfig{q}, true, t0); err != nil {
		t.Fatal(err)
	}
	info := fwInfo()
	info.Role = proto.String("eng")
	fid := subscribe(t, c, "s1", info)
	if len(offersFor(t, c, "s1")) != 1 {
		t.Fatal("no offer")
	}
	roles := c.viewRoles().GetRoles()
	var names []string
	for _, r := range roles {
		names = append(names, r.GetName())
	}
	if len(names) != 3 || names[0] != "batch" || names[1] != "eng" || names[2] != "ops" {
		t.Fatalf("roles = %v", names)
	}
	eng := roles[1]
	if eng.GetWeight() != 2 || len(eng.GetFrameworks()) != 1 || eng.GetFrameworks()[0].GetValue() != string(fid) {
		t.Errorf("eng = %v", eng)
	}
	if got, err := fromProto(eng.GetResources()); err != nil || !got.Equal(mustParse("cpus:4;mem:1024")) {
		t.Errorf("eng resources = %v (%v)", eng.GetResources(), err)
	}
	if roles[2].GetWeight() != 3 || len(roles[2].GetResources()) != 0 {
		t.Errorf("ops = %v", roles[2])
	}
	if roles[0].GetWeight() != 1 {
		t.Errorf("batch = %v", roles[0])
	}
}
