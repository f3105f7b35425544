package agent

import (
	"os"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/resources"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct{ name, master, ip, want string }{
		{"no master", "", "127.0.0.1", "--master is required"},
		{"master without port", "10.0.0.1", "127.0.0.1", "not host:port"},
		{"master bad port", "10.0.0.1:x", "127.0.0.1", "no valid port"},
		{"bad ip", "10.0.0.1:5050", "nope", "--ip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Master: tc.master, IP: tc.ip, WorkDir: t.TempDir()}, nil, WithContainerizer(newFakeContainerizer()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := New(Config{Master: "10.0.0.1:5050", WorkDir: t.TempDir(), Resources: "cpus:x"}, nil, WithContainerizer(newFakeContainerizer()))
	if err == nil || !strings.Contains(err.Error(), "--resources") {
		t.Fatalf("bad resources: %v", err)
	}
	_, err = New(Config{Master: "10.0.0.1:5050", WorkDir: t.TempDir(), Isolation: "cgroups/nope"}, nil, WithContainerizer(newFakeContainerizer()))
	if err == nil || !strings.Contains(err.Error(), "--isolation") {
		t.Fatalf("bad isolation: %v", err)
	}
	if os.Geteuid() != 0 {
		_, err = New(Config{Master: "10.0.0.1:5050", WorkDir: t.TempDir()}, nil)
		if err != errNotRoot {
			t.Fatalf("non-root: %v", err)
		}
	}
}

func TestRegisterFlagsDefaults(t *testing.T) {
	var c Config
	fs := flags.NewSet("agent", os.Stderr)
	c.RegisterFlags(fs)
	fs.SetEnv(func(k string) (string, bool) {
		if k == "CAIRN_MASTER" {
			return "10.0.0.1:5050", true
		}
		return "", false
	})
	if _, err := fs.Parse([]string{"--port=6000", "--executor_registration_timeout=2mins"}); err != nil {
		t.Fatal(err)
	}
	if c.Master != "10.0.0.1:5050" || c.Port != 6000 || c.WorkDir != "/var/lib/cairn/agent" || c.GossipPort != 5056 ||
		c.ExecutorRegistrationTimeout.Minutes() != 2 || c.ExecutorShutdownGracePeriod.Seconds() != 5 ||
		c.Isolation != "cgroups/cpu,cgroups/mem,cgroups/pids" || !c.CgroupsEnableCFS || c.CgroupsPidsMax != 4096 ||
		c.Recover != "reconnect" || !c.Strict || c.RecoveryTimeout.Minutes() != 15 || c.ExecutorReregistrationTimeout.Seconds() != 2 {
		t.Fatalf("config %+v", c)
	}
	if _, err := fs.Parse([]string{"--recover=cleanup", "--no-strict"}); err != nil {
		t.Fatal(err)
	}
	if c.Recover != "cleanup" || c.Strict {
		t.Fatalf("recovery flags: recover %q strict %v", c.Recover, c.Strict)
	}
	bad := c
	bad.Recover = "maybe"
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "--recover") {
		t.Fatalf("validate --recover=maybe: %v", err)
	}
}

func TestTotalResources(t *testing.T) {
	tests := []struct {
		name, flag string
		host       hostFacts
		want       string
	}{
		{"all detected, big host", "", hostFacts{CPUs: 8, MemMB: 16384, DiskMB: 100000},
			"cpus:8;mem:15360;disk:94880;ports:[31000-32000]"},
		{"small host halves", "", hostFacts{CPUs: 1, MemMB: 1024, DiskMB: 8000},
			"cpus:1;mem:512;disk:4000;ports:[31000-32000]"},
		{"flag wins", "cpus:2;mem:100;ports:[5000-5001]", hostFacts{CPUs: 8, MemMB: 16384, DiskMB: 20000},
			"cpus:2;mem:100;disk:14880;ports:[5000-5001]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := totalResources(tc.flag, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			want, err := totalResources(tc.want, hostFacts{})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Fatalf("got %s, want %s", got, want)
			}
		})
	}
}

func TestParseAttributes(t *testing.T) {
	attrs, err := parseAttributes("rack:a;level:3;ports:[1-10,20-30];os:{linux,x86}")
	if err != nil {
		t.Fatal(err)
	}
	want := []mesospb.Value_Type{mesospb.Value_TEXT, mesospb.Value_SCALAR, mesospb.Value_RANGES, mesospb.Value_SET}
	if len(attrs) != len(want) {
		t.Fatalf("attrs %v", attrs)
	}
	for i, a := range attrs {
		if a.GetType() != want[i] {
			t.Fatalf("attr %s type %s, want %s", a.GetName(), a.GetType(), want[i])
		}
	}
	if attrs[0].GetText().GetValue() != "a" || attrs[1].GetScalar().GetValue() != 3 ||
		len(attrs[2].GetRanges().GetRange()) != 2 || len(attrs[3].GetSet().GetItem()) != 2 {
		t.Fatalf("values %v", attrs)
	}
	for _, bad := range []string{"rack", "rack:", ":a", "p:[5-1]", "p:[x-y]"} {
		if _, err := parseAttributes(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestResourcesProtoRoundTrip(t *testing.T) {
	in, err := totalResources("cpus:1.5;mem(web):64;ports:[1-2,5-9];disk:3", hostFacts{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := resources.FromProto(in.ToProto(""))
	if err != nil || !out.Equal(in) {
		t.Fatalf("round trip %s -> %s (%v)", in, out, err)
	}
}
