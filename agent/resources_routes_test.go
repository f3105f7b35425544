package agent

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/endpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/resources"
	"google.golang.org/protobuf/proto"
)

func TestApplyCheckpointed(t *testing.T) {
	flag := resources.MustParse("cpus:4;mem:1024;disk:1000;cpus(eng):1")
	for _, tc := range []struct {
		name, from, cps, want, err string
	}{
		{name: "reserve", from: "cpus:4;mem:1024;disk:1000;cpus(eng):1", cps: "cpus(eng,dynamic):2;disk(web,dynamic):10",
			want: "cpus:2;mem:1024;disk:990;cpus(eng):1;cpus(eng,dynamic):2;disk(web,dynamic):10"},
		{name: "replace", from: "cpus:2;mem:1024;disk:1000;cpus(eng):1;cpus(eng,dynamic):2", cps: "mem(eng,dynamic):24",
			want: "cpus:4;mem:1000;disk:1000;cpus(eng):1;mem(eng,dynamic):24"},
		{name: "unreserve all", from: "cpus:2;mem:1024;disk:1000;cpus(eng):1;cpus(eng,dynamic):2", cps: "",
			want: flag.String()},
		{name: "too much", from: flag.String(), cps: "cpus(eng,dynamic):5", err: "do not fit"},
		{name: "static", from: flag.String(), cps: "cpus(eng):1", err: "not a dynamic reservation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyCheckpointed(resources.MustParse(tc.from), resources.MustParse(tc.cps).ToProto(""))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(resources.MustParse(tc.want)) {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func checkpointMsg(agent, res string, vols ...*mesospb.Resource) *internalpb.CheckpointResources {
	return &internalpb.CheckpointResources{AgentId: &mesospb.AgentID{Value: proto.String(agent)},
		Resources: append(resources.MustParse(res).ToProto(""), vols...)}
}

func testVolume(id string, mb float64) *mesospb.Resource {
	v := resources.MustParse("disk(eng/web,dynamic):1").ToProto("")[0]
	v.Scalar.Value = proto.Float64(mb)
	v.Disk = &mesospb.Resource_DiskInfo{
		Persistence: &mesospb.Resource_DiskInfo_Persistence{Id: proto.String(id)},
		Volume:      &mesospb.Volume{ContainerPath: proto.String("data"), Mode: mesospb.Volume_RW.Enum()},
	}
	return v
}

func reportedTotal(t *testing.T, ta *testAgent) resources.Resources {
	t.Helper()
	rs, err := resources.FromProto(ta.state(t).GetAgentInfo().GetResources())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// The master's checkpointed resources are persisted, reported at
// re-registration, recovered by a restarted agent, and refused when they do
// not fit; volumes get their directories.
func TestCheckpointResourcesSurviveRestart(t *testing.T) {
	r := newRig(t, nil)
	a := r.start(t)
	a.post(t, "/internal/v1/checkpoint_resources", checkpointMsg("m1-S1", "cpus(eng,dynamic):1", testVolume("v1", 100)))
	want := resources.MustParse("cpus:1;mem:1024;disk:900;ports:[31000-32000];cpus(eng,dynamic):1;disk(eng/web,dynamic):100")
	if got := reportedTotal(t, a); !got.Equal(want) {
		t.Fatalf("reported %s, want %s", got, want)
	}
	volDir := filepath.Join(r.cfg.WorkDir, "volumes", "roles", "eng web", "v1")
	if fi, err := os.Stat(volDir); err != nil || !fi.IsDir() {
		t.Fatalf("volume directory: %v", err)
	}

	// Refused: another agent's, or more than the agent has. Nothing changes.
	for _, m := range []*internalpb.CheckpointResources{
		checkpointMsg("m1-S9", "cpus(eng,dynamic):1"),
		checkpointMsg("m1-S1", "cpus(eng,dynamic):3"),
	} {
		err := endpoint.Post(context.Background(), http.DefaultClient, a.url+"/internal/v1/checkpoint_resources", m, nil)
		if api.StatusOf(err, 0) != http.StatusBadRequest {
			t.Errorf("POST %v: %v, want 400", m.GetResources(), err)
		}
	}
	a.stop()

	b := r.start(t)
	if got := reportedTotal(t, b); !got.Equal(want) {
		t.Fatalf("after restart reported %s, want %s", got, want)
	}
	// DESTROY and UNRESERVE: the volume's directory goes.
	b.post(t, "/internal/v1/checkpoint_resources", checkpointMsg("m1-S1", "disk(eng/web,dynamic):100"))
	if _, err := os.Stat(volDir); !os.IsNotExist(err) {
		t.Errorf("destroyed volume's directory: %v", err)
	}
	b.stop()

	// Resources that no longer fit the flags stop the start.
	r.cfg.Resources = "cpus:2;mem:1024;disk:50;ports:[31000-32000]"
	ag, err := New(r.cfg, testLogger(), WithContainerizer(r.ctr))
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "resources.info") {
		t.Fatalf("start with reservations that do not fit: %v", err)
	}
}
