package allocator

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/resources"
)

func TestFilterDuration(t *testing.T) {
	for _, c := range []struct {
		refuse float64
		want   time.Duration
	}{
		{5, 5 * time.Second},
		{0, 0},
		{0.25, 250 * time.Millisecond},
		{-1, DefaultRefuse},
		{math.NaN(), DefaultRefuse},
		{math.Inf(1), maxRefuse},
		{1e300, maxRefuse},
		{365 * 24 * 3600, maxRefuse},
		{365*24*3600 - 1, maxRefuse - time.Second},
	} {
		if got := (Filter{RefuseSeconds: c.refuse}).duration(); got != c.want {
			t.Errorf("refuse %v: %v, want %v", c.refuse, got, c.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{RoleSorter: "fair"}, `role sorter: unknown sorter "fair"`},
		{Config{FrameworkSorter: "fair"}, `framework sorter: unknown sorter "fair"`},
		{Config{AllocationInterval: -time.Second}, "negative allocation interval"},
		{Config{MinAllocatable: []resources.Resources{resources.MustParse("ports:[1-2]")}}, "only scalar"},
		{Config{MinAllocatable: []resources.Resources{{}}}, "empty alternative"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	if _, err := New(Config{RoleSorter: "drf", FrameworkSorter: ""}); err != nil {
		t.Errorf("New with drf sorters: %v", err)
	}
}

func TestParseMinAllocatable(t *testing.T) {
	got, err := ParseMinAllocatable("cpus:0.01|mem:32")
	if err != nil || len(got) != 2 || !got[0].Equal(DefaultMinAllocatable()[0]) || !got[1].Equal(DefaultMinAllocatable()[1]) {
		t.Fatalf("ParseMinAllocatable(default) = %v, %v", got, err)
	}
	if got, err := ParseMinAllocatable(""); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ParseMinAllocatable(\"\") = %#v, %v; want empty and non-nil", got, err)
	}
	if _, err := ParseMinAllocatable("cpus:1||mem:2"); err == nil {
		t.Fatal("ParseMinAllocatable accepted an empty alternative")
	}
}
