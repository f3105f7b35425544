package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"google.golang.org/protobuf/proto"
)

func agentInfo(id string) *mesospb.AgentInfo {
	return &mesospb.AgentInfo{Hostname: proto.String("h-" + id), Id: &mesospb.AgentID{Value: proto.String(id)}}
}

func frameworkInfo(id string) *mesospb.FrameworkInfo {
	return &mesospb.FrameworkInfo{User: proto.String("u"), Name: proto.String("fw"), Id: &mesospb.FrameworkID{Value: proto.String(id)}}
}

func TestApplyAndReload(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 5)
	ops := []Op{
		AdmitAgent{Info: agentInfo("m-S0"), GossipAddress: "10.0.0.2:5056", Admitted: now, Next: 1},
		AdmitAgent{Info: agentInfo("m-S1"), GossipAddress: "10.0.0.3:5056", Admitted: now, Next: 2},
		AddFramework{Info: frameworkInfo("m-0000"), Registered: now, Next: 1},
		AddFramework{Info: frameworkInfo("m-0001"), Registered: now, Next: 2},
		UpdateFramework{Info: frameworkInfo("m-0001"), FailoverDeadline: now.Add(time.Minute)},
		RemoveAgent{ID: "m-S0"},
		RemoveFramework{ID: "m-0000"},
	}
	for _, op := range ops {
		if err := r.Apply(op); err != nil {
			t.Fatalf("apply %T: %v", op, err)
		}
	}
	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := r2.State()
	if !proto.Equal(st, r.State()) {
		t.Fatalf("reloaded state differs:\n%v\nvs\n%v", st, r.State())
	}
	if len(st.Agents) != 1 || st.Agents[0].GetGossipAddress() != "10.0.0.3:5056" || !st.Agents[0].AdmittedTime().Equal(now) {
		t.Errorf("agents = %v", st.Agents)
	}
	if st.GetNextAgent() != 2 || st.GetNextFramework() != 2 {
		t.Errorf("counters = %d, %d; want 2, 2", st.GetNextAgent(), st.GetNextFramework())
	}
	if len(st.Frameworks) != 1 || !st.Frameworks[0].FailoverDeadline().Equal(now.Add(time.Minute)) {
		t.Errorf("frameworks = %v", st.Frameworks)
	}
}

func TestReadmitReplaces(t *testing.T) {
	r, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.Apply(AdmitAgent{Info: agentInfo("a"), GossipAddress: "x:1"})
	if err := r.Apply(AdmitAgent{Info: agentInfo("a"), GossipAddress: "y:2"}); err != nil {
		t.Fatal(err)
	}
	st := r.State()
	if len(st.Agents) != 1 || st.Agents[0].GetGossipAddress() != "y:2" {
		t.Fatalf("agents = %v", st.Agents)
	}
}

func TestFailedOpLeavesStateAndFile(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(dir)
	r.Apply(AddFramework{Info: frameworkInfo("f")})
	before, _ := os.ReadFile(r.Path())
	for _, op := range []Op{
		RemoveAgent{ID: "nope"},
		RemoveFramework{ID: "nope"},
		UpdateFramework{Info: frameworkInfo("nope")},
		AddFramework{Info: frameworkInfo("f")},
		AddFramework{Info: &mesospb.FrameworkInfo{}},
		AdmitAgent{Info: &mesospb.AgentInfo{}},
	} {
		if err := r.Apply(op); err == nil {
			t.Errorf("%T %v: no error", op, op)
		}
	}
	if err := r.Apply(RemoveAgent{ID: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	after, _ := os.ReadFile(r.Path())
	if string(before) != string(after) || len(r.State().Frameworks) != 1 {
		t.Fatal("failed operations changed the registry")
	}
}

func TestBadFiles(t *testing.T) {
	good, err := encode(&State{Frameworks: []*Framework{{Info: frameworkInfo("f")}}})
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-3] ^= 0xff
	version := append([]byte(nil), good...)
	version[11] = 9
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "truncated"},
		{"short header", good[:10], "truncated"},
		{"truncated payload", good[:len(good)-2], "truncated"},
		{"garbage", []byte("hello, this is not a registry at all"), "bad magic"},
		{"corrupt", flipped, "checksum"},
		{"version", version, "unknown format version 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			os.WriteFile(path, tc.content, 0o644)
			_, err := Open(dir)
			if err == nil {
				t.Fatal("Open succeeded on a bad file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q should name %s and say %q", err, path, tc.want)
			}
		})
	}
}

// A crash after writing the temp file but before the rename leaves the old
// registry in place and a temp file behind; Open keeps the old state and
// removes the leftover.
func TestCrashBetweenWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(dir)
	if err := r.Apply(AddFramework{Info: frameworkInfo("old")}); err != nil {
		t.Fatal(err)
	}
	half, _ := encode(&State{Frameworks: []*Framework{{Info: frameworkInfo("new")}}})
	tmp := filepath.Join(dir, FileName+".tmp-123")
	os.WriteFile(tmp, half[:len(half)/2], 0o644)

	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fws := r2.State().Frameworks
	if len(fws) != 1 || fws[0].GetInfo().GetId().GetValue() != "old" {
		t.Fatalf("frameworks = %v", fws)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file still there: %v", err)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	r, err := Open(filepath.Join(t.TempDir(), "sub", "dir"))
	if err != nil {
		t.Fatal(err)
	}
	if st := r.State(); len(st.Agents)+len(st.Frameworks) != 0 {
		t.Fatalf("state = %v", st)
	}
}

func TestGoneWeightsQuotas(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	limit := map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(4)}}
	ops := []Op{
		AdmitAgent{Info: agentInfo("m-S0"), Admitted: now, Next: 1},
		MarkAgentGone{ID: "m-S0", When: now},
		MarkAgentGone{ID: "m-S0", When: now}, // idempotent
		SetWeights{Weights: map[string]float64{"eng": 2, "ops": 3}},
		SetWeights{Weights: map[string]float64{"ops": 1}}, // back to the default: dropped
		SetQuotas{Configs: []*quotapb.QuotaConfig{{Role: proto.String("eng"), Limits: limit}, {Role: proto.String("dev"), Limits: limit}}},
		SetQuotas{Configs: []*quotapb.QuotaConfig{{Role: proto.String("dev")}}}, // removed
	}
	for _, op := range ops {
		if err := r.Apply(op); err != nil {
			t.Fatalf("apply %T: %v", op, err)
		}
	}
	if err := r.Apply(SetWeights{Weights: map[string]float64{"x": 0}}); err == nil {
		t.Error("weight 0 accepted")
	}
	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := r2.State()
	if len(st.Agents) != 0 || !st.IsGone("m-S0") || len(st.GoneAgents) != 1 || st.IsGone("m-S1") {
		t.Errorf("agents %v gone %v", st.Agents, st.GoneAgents)
	}
	if len(st.Weights) != 1 || st.Weights[0].GetRole() != "eng" || st.Weights[0].GetWeight() != 2 {
		t.Errorf("weights = %v", st.Weights)
	}
	if len(st.Quotas) != 1 || st.Quotas[0].GetRole() != "eng" || st.Quotas[0].GetLimits()["cpus"].GetValue() != 4 {
		t.Errorf("quotas = %v", st.Quotas)
	}
}
