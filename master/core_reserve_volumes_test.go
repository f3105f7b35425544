package master

import (
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

func volume(id, res, containerPath string) *mesospb.Resource {
	v := toProto(mustParse(res), "")[0]
	v.Disk = &mesospb.Resource_DiskInfo{
		Persistence: &mesospb.Resource_DiskInfo_Persistence{Id: proto.String(id)},
		Volume:      &mesospb.Volume{ContainerPath: proto.String(containerPath), Mode: mesospb.Volume_RW.Enum()},
	}
	return v
}

func volumeOp(typ mesospb.Offer_Operation_Type, id string, vols ...*mesospb.Resource) *mesospb.Offer_Operation {
	op := &mesospb.Offer_Operation{Type: typ.Enum(), Id: &mesospb.OperationID{Value: proto.String(id)}}
	if typ == mesospb.Offer_Operation_CREATE {
		op.Create = &mesospb.Offer_Operation_Create{Volumes: vols}
	} else {
		op.Destroy = &mesospb.Offer_Operation_Destroy{Volumes: vols}
	}
	return op
}

// CREATE records a volume on reserved disk (sent to the agent with its
// disk info); a second CREATE of the same id fails; DESTROY removes it
// unless a live task uses it.
func TestAcceptCreateDestroyVolume(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024;disk:1000")
	eng := subscribe(t, c, "s", roleInfo("eng"))
	o := offersFor(t, c, "s")[0]
	vol := volume("v1", "disk(eng,dynamic):100", "data")
	eff := acceptOps(t, c, eng, "s", o, reserveOp("", "disk(eng,dynamic):200"),
		volumeOp(mesospb.Offer_Operation_CREATE, "c1", vol),
		volumeOp(mesospb.Offer_Operation_CREATE, "c2", volume("v1", "disk(eng,dynamic):50", "other")),
		volumeOp(mesospb.Offer_Operation_CREATE, "c3", volume("v2", "disk(eng,dynamic):50", "/abs")))
	sts := opStatuses(events(eff, "s"))
	if sts["c1"].GetState() != mesospb.OperationState_OPERATION_FINISHED {
		t.Errorf("c1 = %v", sts["c1"])
	}
	if !strings.Contains(sts["c2"].GetMessage(), "already in use") || !strings.Contains(sts["c3"].GetMessage(), "relative") {
		t.Errorf("c2 = %v, c3 = %v", sts["c2"], sts["c3"])
	}
	msgs := agentMsgs(eff, "checkpoint_resources")
	vols := volumesOf(msgs[len(msgs)-1].(*internalpb.CheckpointResources).GetResources())
	if len(vols) != 1 || vols[0].GetDisk().GetPersistence().GetId() != "v1" || vols[0].GetDisk().GetVolume().GetContainerPath() != "data" {
		t.Fatalf("checkpointed volumes = %v", vols)
	}
	if v := volumesOf(c.agents[aid].info.GetResources()); len(v) != 1 {
		t.Errorf("agent info volumes = %v", v)
	}
	if want := mustParse("cpus:4;mem:1024;disk:800;disk(eng,dynamic):200"); !c.agents[aid].total.Equal(want) {
		t.Errorf("total %s, want %s", c.agents[aid].total, want)
	}

	// The next offer shows the volume whole, beside the rest of the
	// reserved disk.
	o = offersFor(t, c, "s")[0]
	var shown []*mesospb.Resource
	for _, r := range o.GetResources() {
		if r.GetDisk().GetPersistence().GetId() == "v1" {
			shown = append(shown, r)
		}
	}
	if len(shown) != 1 || shown[0].GetScalar().GetValue() != 100 || shown[0].GetDisk().GetVolume().GetContainerPath() != "data" {
		t.Fatalf("offered volumes %v in %v", shown, o.GetResources())
	}
	if got, want := offerRes(t, []*mesospb.Offer{o}), c.agents[aid].total; !got.Equal(want) {
		t.Errorf("offer %s, want the whole agent %s", got, want)
	}

	// A task using the volume keeps it from being destroyed (and from
	// being offered as a volume).
	task := command("t1", o.GetAgentId(), "cpus:1")
	task.Resources = append(task.Resources, vol)
	acceptOps(t, c, eng, "s", o, launchOp(task))
	o = offersFor(t, c, "s")[0]
	eff = acceptOps(t, c, eng, "s", o, volumeOp(mesospb.Offer_Operation_DESTROY, "d1", vol))
	if st := opStatuses(events(eff, "s"))["d1"]; st.GetState() != mesospb.OperationState_OPERATION_ERROR {
		t.Errorf("destroy of a volume in use: %v", st)
	}
	f := c.frameworks[eng]
	f.tasks["t1"].pb.State = mesospb.TaskState_TASK_FINISHED.Enum()
	c.recover(eng, aid, "eng", f.tasks["t1"].res, nil, t0)
	o = offersFor(t, c, "s")[0]
	eff = acceptOps(t, c, eng, "s", o, volumeOp(mesospb.Offer_Operation_DESTROY, "d2", vol))
	if st := opStatuses(events(eff, "s"))["d2"]; st.GetState() != mesospb.OperationState_OPERATION_FINISHED {
		t.Errorf("destroy: %v", st)
	}
	if v := volumesOf(c.agents[aid].info.GetResources()); len(v) != 0 {
		t.Errorf("volumes after destroy = %v", v)
	}
}
