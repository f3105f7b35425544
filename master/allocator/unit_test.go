package allocator

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// TestExpiryQueues: per-duration FIFOs, the heap for what would break a
// FIFO's order, and compaction of dead entries.
func TestExpiryQueues(t *testing.T) {
	var e expiryQueues
	push := func(d time.Duration, expires int64, seq uint64) {
		e.push(d, queued{expires: expires, seq: seq})
	}
	push(time.Second, 10, 1)
	push(time.Second, 20, 2)
	push(time.Second, 15, 3) // earlier than the FIFO's tail: heap
	push(time.Minute, 12, 4)
	for d := range maxFIFOs + 2 { // past the FIFO budget: heap
		push(time.Duration(d+100)*time.Hour, 1000+int64(d), uint64(100+d))
	}
	var got []uint64
	pop := func(now int64) []uint64 {
		got = got[:0]
		e.popExpired(now, func(q queued) { got = append(got, q.seq) })
		slices.Sort(got)
		return got
	}
	if p := pop(9); len(p) != 0 {
		t.Fatalf("popped %v before anything expired", p)
	}
	if p := pop(15); !slices.Equal(p, []uint64{1, 3, 4}) {
		t.Fatalf("pop(15) = %v, want [1 3 4]", p)
	}
	if e.pending != 4+maxFIFOs+2-3 {
		t.Fatalf("pending = %d", e.pending)
	}
	e.compact(func(q queued) bool { return q.seq != 2 && q.seq < 110 })
	if p := pop(1 << 40); !slices.Equal(p, []uint64{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}) {
		t.Fatalf("after compaction popped %v", p)
	}
	if e.pending != 0 || len(e.fifos) != 0 || len(e.late) != 0 {
		t.Fatalf("queues not empty: pending %d, %d fifos, %d late", e.pending, len(e.fifos), len(e.late))
	}
}

// TestFilterExpiryAtScale: many filters expire in one sweep, and the
// counts and bitsets follow.
func TestFilterExpiryAtScale(t *testing.T) {
	a := mustNew(t, Config{AllocationInterval: time.Second})
	for i := range 50 {
		if err := a.AddFramework(ids.FrameworkID(string(rune('A'+i))), FrameworkInfo{}, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if err := a.AddAgent(ids.AgentID(strings.Repeat("a", i+1)), AgentInfo{Total: resources.MustParse("cpus:1;mem:64")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Unix(0, 0)
	for round := range 60 {
		for _, al := range a.Allocate(now) {
			refuse := 100.0
			if round%2 == 1 {
				refuse = 1000
			}
			if err := a.Recover(al, &Filter{RefuseSeconds: refuse}, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := checkInvariants(a); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		now = now.Add(time.Second)
	}
	if s := a.Stats(); s.Filters != 20*50 {
		t.Fatalf("%d filters, want every framework refusing every agent", s.Filters)
	}
	a.Allocate(now.Add(2000 * time.Second))
	if err := checkInvariants(a); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.Filters != 0 {
		t.Fatalf("%d filters left after they all expired", s.Filters)
	}
	if n := len(a.FilterCounts()); n != 0 {
		t.Fatalf("FilterCounts lists %d frameworks", n)
	}
}

func TestParseWeights(t *testing.T) {
	w, err := ParseWeights(" eng=2, eng/web=0.5 ,ops=3")
	if err != nil || len(w) != 3 || w["eng"] != 2 || w["eng/web"] != 0.5 || w["ops"] != 3 {
		t.Fatalf("ParseWeights = %v, %v", w, err)
	}
	for _, bad := range []string{"eng", "eng=x", "eng=0", "eng=-1", "eng=Inf", "eng=NaN", "=2", "eng//x=1", "eng=1,eng=2"} {
		if _, err := ParseWeights(bad); err == nil {
			t.Errorf("ParseWeights(%q) accepted", bad)
		}
	}
	if w, err := ParseWeights(""); err != nil || len(w) != 0 {
		t.Errorf("ParseWeights(\"\") = %v, %v", w, err)
	}
	if got := SorterNames(); !slices.Equal(got, []string{"drf", "priority", "random"}) {
		t.Errorf("SorterNames = %v", got)
	}
}

// TestStatus checks the introspection the master publishes.
func TestStatus(t *testing.T) {
	a := mustNew(t, Config{AllocationInterval: time.Second, Weights: map[string]float64{"eng": 2}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.AddAgent("a1", AgentInfo{Total: resources.MustParse("cpus:4;cpus(eng):2;mem:4096")}, nil))
	must(a.AddFramework("f1", FrameworkInfo{Roles: []string{"eng", "ops"}, SuppressedRoles: []string{"ops"}}, nil, true))
	must(a.UpdateQuota([]QuotaConfig{{Role: "eng", Guarantees: map[string]float64{"cpus": 1}, Limits: map[string]float64{"mem": 1024}}}, false))
	als := a.Allocate(time.Unix(0, 0))
	if len(als) != 1 || als[0].Resources.String() != "cpus:4;cpus(eng):2;mem:1024" {
		t.Fatalf("Allocate = %v", als)
	}
	must(a.Recover(als[0], &Filter{RefuseSeconds: 60}, time.Unix(0, 0)))
	st := a.Stats()
	if st.AllocationRuns != 1 || st.OffersMade != 1 || st.LastRound != 1 || st.Filters != 1 || st.Total.String() != "cpus:6;mem:4096" {
		t.Errorf("Stats = %+v", st)
	}
	eng, ok := a.Role("eng")
	if !ok || eng.Weight != 2 || eng.Quota == nil || eng.Quota.Guarantees["cpus"] != 1 || eng.Consumed.String() != "cpus:2" ||
		eng.Reserved.String() != "cpus:2" || eng.Filters != 1 || !slices.Equal(eng.Frameworks, []ids.FrameworkID{"f1"}) {
		t.Errorf("Role(eng) = %+v", eng)
	}
	fs, ok := a.Framework("f1")
	if !ok || !slices.Equal(fs.Roles, []string{"eng", "ops"}) || !slices.Equal(fs.Suppressed, []string{"ops"}) || fs.Filters != 1 {
		t.Errorf("Framework(f1) = %+v", fs)
	}
	if fc := a.FilterCounts(); fc["f1"] != 1 {
		t.Errorf("FilterCounts = %v", fc)
	}
	if q := a.Quotas(); len(q) != 1 || q[0].Role != "eng" || q[0].Limits["mem"] != 1024 {
		t.Errorf("Quotas = %+v", q)
	}
	if w := a.Weights(); len(w) != 1 || w["eng"] != 2 {
		t.Errorf("Weights = %v", w)
	}
	if _, ok := a.Role("nope"); ok {
		t.Error("Role(nope) found")
	}
}

// TestQuotaBatch: UPDATE_QUOTA applies a whole configuration at once, in
// any order of roles, and all or nothing.
func TestQuotaBatch(t *testing.T) {
	a := mustNew(t, Config{AllocationInterval: time.Second})
	if err := a.AddAgent("a1", AgentInfo{Total: resources.MustParse("cpus:8;mem:8192")}, nil); err != nil {
		t.Fatal(err)
	}
	g := func(v float64) map[string]float64 { return map[string]float64{"cpus": v} }
	for _, batch := range [][]QuotaConfig{
		{{Role: "eng/web", Guarantees: g(1)}, {Role: "eng", Guarantees: g(2)}},
		{{Role: "eng", Guarantees: g(3)}, {Role: "eng/web", Guarantees: g(3)}, {Role: "eng/db", Limits: g(1)}},
		{{Role: "eng"}, {Role: "eng/web"}, {Role: "eng/db"}},
	} {
		if err := a.UpdateQuota(batch, false); err != nil {
			t.Fatalf("UpdateQuota(%+v): %v", batch, err)
		}
		if err := checkInvariants(a); err != nil {
			t.Fatalf("after %+v: %v", batch, err)
		}
	}
	if len(a.Quotas()) != 0 || len(a.Roles()) != 0 {
		t.Fatalf("quotas %v, roles %v left", a.Quotas(), a.Roles())
	}
	// One bad config refuses the batch.
	err := a.UpdateQuota([]QuotaConfig{{Role: "ops", Guarantees: g(1)}, {Role: "ops/x", Guarantees: g(2)}}, false)
	if err == nil || len(a.Quotas()) != 0 {
		t.Fatalf("a batch breaking the hierarchy: %v, quotas %v", err, a.Quotas())
	}
}
