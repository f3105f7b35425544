package containerizer

import (
	"strings"
	"syscall"
	"testing"

	"github.com/cairnhq/cairn/ids"
)

func TestValidateID(t *testing.T) {
	for _, ok := range []ids.ContainerID{"3f0c2a3e-9d1b-4c55-8f7e-0a1b2c3d4e5f", "a", "x_y+z.1"} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []ids.ContainerID{"", ".", "..", ".rootfs", "a/b", "a b", "ä"} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("ValidateID(%q) accepted", bad)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := func() Spec {
		return Spec{ID: "c1", Sandbox: "/var/sb", Args: []string{"/bin/true"},
			Binds: []Bind{{Source: "/usr/bin/cairn", Target: "/.cairn/cairn"}}}
	}
	s := good()
	if err := s.validate(); err != nil {
		t.Fatalf("good spec: %v", err)
	}
	for name, tc := range map[string]struct {
		mutate func(*Spec)
		want   string
	}{
		"no args":         {func(s *Spec) { s.Args = nil }, "no command"},
		"relative box":    {func(s *Spec) { s.Sandbox = "sb" }, "sandbox"},
		"bind to /":       {func(s *Spec) { s.Binds[0].Target = "/" }, "bind target"},
		"unclean target":  {func(s *Spec) { s.Binds[0].Target = "/a/../../etc" }, "bind target"},
		"relative source": {func(s *Spec) { s.Binds[0].Source = "cairn" }, "bind source"},
		"relative netns":  {func(s *Spec) { s.NetNS = "netns" }, "network namespace"},
		"bad id":          {func(s *Spec) { s.ID = "../x" }, "container id"},
	} {
		s := good()
		tc.mutate(&s)
		if err := s.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: validate = %v, want error about %q", name, err, tc.want)
		}
	}
}

func TestExitString(t *testing.T) {
	for e, want := range map[Exit]string{
		{Code: 3}: "exited with status 3",
		{Code: 137, Signal: syscall.SIGKILL, OOMKilled: true}: "killed by signal 9 (killed) after an OOM kill",
	} {
		if got := e.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", e, got, want)
		}
	}
}
