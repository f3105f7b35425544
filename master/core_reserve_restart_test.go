package master

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// agentReport is what an agent with total res reports at (re-)admission.
func agentReport(id ids.AgentID, res string) *internalpb.AgentState {
	info := &mesospb.AgentInfo{Hostname: proto.String("a1"), Resources: toProto(mustParse(res), "")}
	if id != "" {
		info.Id = agentIDpb(id)
	}
	return &internalpb.AgentState{AgentInfo: info}
}

// Reservations and volumes made in an ACCEPT survive a master restart: the
// registry holds them, and an agent that re-registers without them (it
// never got the checkpoint) is given the recorded ones and sent them again.
func TestReservationsSurviveMasterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{IP: "127.0.0.1", WorkDir: dir, Hostname: "h", HeartbeatInterval: time.Second}
	m1, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := m1.core
	c.setInfo(mustAddr("127.0.0.1:5050").Addr(), 5050, "h")
	const flagRes = "cpus:4;mem:1024;disk:1000"
	aid, err := c.AdmitAgent(agentReport("", flagRes), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0)
	if err != nil {
		t.Fatal(err)
	}
	c.take()
	eng := subscribe(t, c, "s", roleInfo("eng"))
	acceptOps(t, c, eng, "s", offersFor(t, c, "s")[0], reserveOp("", "cpus(eng,dynamic):2;disk(eng,dynamic):100"),
		volumeOp(mesospb.Offer_Operation_CREATE, "c", volume("v1", "disk(eng,dynamic):100", "data")))
	want := mustParse("cpus:2;mem:1024;disk:900;cpus(eng,dynamic):2;disk(eng,dynamic):100")
	if !c.agents[aid].total.Equal(want) {
		t.Fatalf("total before restart %s", c.agents[aid].total)
	}

	m2, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c2 := m2.core
	c2.setInfo(mustAddr("127.0.0.1:5050").Addr(), 5050, "h")
	if rec := c2.recovered[aid]; len(volumesOf(rec.GetResources())) != 1 {
		t.Fatalf("registry record lost the volume: %v", rec.GetResources())
	}
	// The agent lost its checkpoint: it reports only its flag resources.
	if _, err := c2.AdmitAgent(agentReport(aid, flagRes), mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
		t.Fatal(err)
	}
	eff := c2.take()
	if got := c2.agents[aid].total; !got.Equal(want) {
		t.Errorf("total after restart %s, want %s", got, want)
	}
	if got, want := lastCheckpoint(t, eff), mustParse("cpus(eng,dynamic):2;disk(eng,dynamic):100"); !got.Equal(want) {
		t.Errorf("resent checkpoint %s, want %s", got, want)
	}
	msgs := agentMsgs(eff, "checkpoint_resources")
	if v := volumesOf(msgs[0].(*internalpb.CheckpointResources).GetResources()); len(v) != 1 {
		t.Errorf("resent volumes = %v", v)
	}
	if len(agentMsgs(eff, "registered")) != 1 {
		t.Error("registered not sent")
	}

	// The role's framework is offered the reservation, another role is not.
	subscribe(t, c2, "s-eng", roleInfo("eng"))
	if got := offerRes(t, offersFor(t, c2, "s-eng")); !got.Contains(mustParse("cpus(eng,dynamic):2")) {
		t.Errorf("eng offered %s", got)
	}
}

// An agent that reports the recorded reservations is not sent them again,
// and a new agent's own report is taken as it is.
func TestReadmitWithSameReservationsSendsNothing(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024")
	eng := subscribe(t, c, "s", roleInfo("eng"))
	acceptOps(t, c, eng, "s", offersFor(t, c, "s")[0], reserveOp("", "cpus(eng,dynamic):1"))
	report := agentReport(aid, "cpus:3;mem:1024;cpus(eng,dynamic):1")
	if _, err := c.AdmitAgent(report, mustAddr("10.0.0.2:5051"), "10.0.0.2:5056", "agent@a1", t0); err != nil {
		t.Fatal(err)
	}
	if n := len(agentMsgs(c.take(), "checkpoint_resources")); n != 0 {
		t.Errorf("%d checkpoint_resources sent to an agent that has them", n)
	}
	other, err := c.AdmitAgent(agentReport("", "cpus:2;cpus(web,dynamic):1"), mustAddr("10.0.0.3:5051"), "10.0.0.3:5056", "agent@a2", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.agents[other].total; !got.Equal(mustParse("cpus:2;cpus(web,dynamic):1")) {
		t.Errorf("new agent total %s", got)
	}
}

// The operator's UNRESERVE_RESOURCES goes through the same record: it
// refuses the disk under a volume, and a valid one is checkpointed too.
func TestOperatorUnreserveKeepsVolumesBacked(t *testing.T) {
	c := testCore(t)
	aid := admit(t, c, "a1", "cpus:4;mem:1024;disk:1000")
	eng := subscribe(t, c, "s", roleInfo("eng"))
	acceptOps(t, c, eng, "s", offersFor(t, c, "s")[0], reserveOp("", "disk(eng,dynamic):100;cpus(eng,dynamic):1"),
		volumeOp(mesospb.Offer_Operation_CREATE, "c", volume("v1", "disk(eng,dynamic):100", "data")))
	disk := toProto(mustParse("disk(eng,dynamic):100"), "")
	if err := c.Reserve(aid, disk, true, t0); err == nil || !strings.Contains(err.Error(), "persistent volumes") {
		t.Errorf("unreserve under a volume: %v", err)
	}
	c.take()
	if err := c.Reserve(aid, toProto(mustParse("cpus(eng,dynamic):1"), ""), true, t0); err != nil {
		t.Fatal(err)
	}
	if got := lastCheckpoint(t, c.take()); !got.Equal(mustParse("disk(eng,dynamic):100")) {
		t.Errorf("checkpointed %s", got)
	}
}
