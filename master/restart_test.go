package master

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// A restarted master knows its frameworks from the registry: one may
// resubscribe with its id within its failover timeout, and new ids do not
// collide with old ones.
func TestRestartRecoversFrameworks(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{IP: "127.0.0.1", WorkDir: dir, Hostname: "h", HeartbeatInterval: time.Second}
	m1, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	info := fwInfo()
	info.FailoverTimeout = proto.Float64(3600)
	fid, err := m1.core.Subscribe(subscribeCall(info), "s1", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	m2, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := m2.core.frameworks[fid]
	if f == nil || f.stream != "" || f.active {
		t.Fatalf("recovered framework = %+v", f)
	}
	again := proto.Clone(info).(*mesospb.FrameworkInfo)
	again.Id = frameworkIDpb(fid)
	m2.core.setInfo(mustAddr("127.0.0.1:5050").Addr(), 5050, "h")
	got, err := m2.core.Subscribe(subscribeCall(again), "s2", time.Now())
	if err != nil || got != fid {
		t.Fatalf("resubscribe = %s, %v", got, err)
	}
	evs := events(m2.core.take(), "s2")
	if len(evs) != 1 || evs[0].GetType() != schedulerpb.Event_SUBSCRIBED {
		t.Fatalf("events = %v", evs)
	}
	other, err := m2.core.Subscribe(subscribeCall(fwInfo()), "s3", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if other == fid || other[len(other)-4:] != "0001" {
		t.Errorf("new framework id %s after restart (old %s)", other, fid)
	}
}
