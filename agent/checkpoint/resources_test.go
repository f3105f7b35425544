package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

func TestResourcesRoundTrip(t *testing.T) {
	s, dir := open(t, nil)
	if rs, ok, err := s.ReadResources(); err != nil || ok || rs != nil {
		t.Fatalf("fresh store: %v %v %v", rs, ok, err)
	}
	cpus := &mesospb.Resource{Name: proto.String("cpus"), Type: mesospb.Value_SCALAR.Enum(),
		Scalar:       &mesospb.Value_Scalar{Value: proto.Float64(2)},
		Reservations: []*mesospb.Resource_ReservationInfo{{Type: mesospb.Resource_ReservationInfo_DYNAMIC.Enum(), Role: proto.String("eng")}}}
	must(t, s.WriteResources([]*mesospb.Resource{cpus}))
	if _, err := os.Stat(filepath.Join(dir, "resources", "resources.info")); err != nil {
		t.Fatalf("not at Mesos's path: %v", err)
	}
	// A new store on the same directory (the restarted agent) reads them.
	s2, err := Open(dir, nil)
	must(t, err)
	rs, ok, err := s2.ReadResources()
	if err != nil || !ok || len(rs) != 1 || !proto.Equal(rs[0], cpus) {
		t.Fatalf("read back %v %v %v", rs, ok, err)
	}
	// Unreserving everything leaves an empty list, not "never written".
	must(t, s2.WriteResources(nil))
	if rs, ok, err := s2.ReadResources(); err != nil || !ok || len(rs) != 0 {
		t.Fatalf("after empty write: %v %v %v", rs, ok, err)
	}
}

func TestResourcesCorrupt(t *testing.T) {
	s, dir := open(t, nil)
	must(t, s.WriteResources(nil))
	flip(t, filepath.Join(dir, "resources", "resources.info"), 9)
	if _, _, err := s.ReadResources(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}
