package master

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/quotapb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

func TestMetricsPerRole(t *testing.T) {
	m, err := New(Config{WorkDir: t.TempDir(), Hostname: "h"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := m.core
	c.setInfo(mustAddr("10.0.0.1:5050").Addr(), 5050, "h")
	admit(t, c, "a1", "cpus:4;mem:1024")
	admit(t, c, "a2", "cpus:4;mem:1024")
	info := fwInfo()
	info.Role = proto.String("eng")
	fid := subscribe(t, c, "s1", info)
	q := &quotapb.QuotaConfig{Role: proto.String("eng"),
		Guarantees: map[string]*mesospb.Value_Scalar{"cpus": {Value: proto.Float64(1)}},
		Limits:     map[string]*mesospb.Value_Scalar{"mem": {Value: proto.Float64(4096)}}}
	if err := c.UpdateQuota([]*quotapb.QuotaConfig{q}, true, t0); err != nil {
		t.Fatal(err)
	}
	offers := offersFor(t, c, "s1")
	if len(offers) != 2 {
		t.Fatalf("offers = %d, want 2", len(offers))
	}
	// Decline one offer with a long filter: one active filter for eng.
	cl := call(fid, schedulerpb.Call_DECLINE)
	cl.Decline = &schedulerpb.Call_Decline{OfferIds: []*mesospb.OfferID{offers[0].GetId()},
		Filters: &mesospb.Filters{RefuseSeconds: proto.Float64(300)}}
	mustCall(t, c, cl, "s1")
	c.take()

	m.allocRun.observe(2 * time.Millisecond)
	m.allocRun.observe(4 * time.Millisecond)
	m.allocRun.observe(6 * time.Millisecond)
	snap := map[string]float64{}
	m.loopMetrics(snap, t0)

	for key, want := range map[string]float64{
		// eng holds one agent's offer: half the cluster's cpus and mem.
		"allocator/mesos/roles/eng/shares/dominant":                0.5,
		"allocator/mesos/offer_filters/roles/eng/active":           1,
		"allocator/mesos/quota/roles/eng/resources/cpus/guarantee": 1,
		"allocator/mesos/quota/roles/eng/resources/mem/limit":      4096,
		"allocator/mesos/quota/roles/eng/resources/cpus/consumed":  4,
		"allocator/mesos/quota/roles/eng/resources/mem/consumed":   1024,
		"allocator/mesos/allocation_runs":                          3,
		"allocator/mesos/allocation_run_ms":                        6,
		"allocator/mesos/allocation_run_ms/count":                  3,
		"allocator/mesos/allocation_run_ms/p50":                    4,
		"allocator/mesos/allocation_run_ms/max":                    6,
		"allocator/mesos/allocation_run_ms/min":                    2,
	} {
		got, ok := snap[key]
		if !ok {
			t.Errorf("%s missing", key)
		} else if got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	// Only what the quota names gets guarantee and limit keys.
	for _, key := range []string{"allocator/mesos/quota/roles/eng/resources/mem/guarantee",
		"allocator/mesos/quota/roles/eng/resources/cpus/limit"} {
		if _, ok := snap[key]; ok {
			t.Errorf("%s present without a quota for it", key)
		}
	}
}
