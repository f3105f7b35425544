package flags

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"1secs": time.Second, "15mins": 15 * time.Minute, "100ms": 100 * time.Millisecond,
		"1.5mins": 90 * time.Second, "2hrs": 2 * time.Hour, "1days": 24 * time.Hour,
		"1weeks": 7 * 24 * time.Hour, "10us": 10 * time.Microsecond, "5ns": 5,
		"1m30s": 90 * time.Second, "0secs": 0,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "secs", "-1secs", "1 fortnight", "NaNsecs", "1e400secs", "-5s"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want error", in)
		}
	}
}

func TestFormatDurationRoundTrips(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 15 * time.Minute, 100 * time.Millisecond, 1500 * time.Millisecond, 0} {
		got, err := ParseDuration(FormatDuration(d))
		if err != nil || got != d {
			t.Errorf("round trip of %v via %q = %v, %v", d, FormatDuration(d), got, err)
		}
	}
	if s := FormatDuration(time.Second); s != "1secs" {
		t.Errorf("FormatDuration(1s) = %q, want 1secs", s)
	}
}

func TestParseFlagsEnvAndNo(t *testing.T) {
	s := NewSet("t", io.Discard)
	var dir string
	var port int
	var ck bool
	var iv time.Duration
	s.String(&dir, "work_dir", "/default", "")
	s.Int(&port, "port", 5050, "")
	s.Bool(&ck, "checkpoint", true, "")
	s.Duration(&iv, "allocation_interval", time.Second, "")
	env := map[string]string{"CAIRN_WORK_DIR": "/from/env", "CAIRN_PORT": "6000", "CAIRN_ALLOCATION_INTERVAL": "250ms"}
	s.SetEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	rest, err := s.Parse([]string{"--port=7000", "--no-checkpoint", "--", "echo", "--port=1"})
	if err != nil {
		t.Fatal(err)
	}
	if dir != "/from/env" || port != 7000 || ck || iv != 250*time.Millisecond {
		t.Errorf("got dir=%q port=%d checkpoint=%v interval=%v", dir, port, ck, iv)
	}
	if len(rest) != 2 || rest[0] != "echo" || rest[1] != "--port=1" {
		t.Errorf("positional args = %q", rest)
	}
	if v := s.Values()["allocation_interval"]; v != "250ms" {
		t.Errorf("Values()[allocation_interval] = %q", v)
	}
}

func TestParseFlagsErrorsNameTheFlag(t *testing.T) {
	s := NewSet("t", io.Discard)
	var iv time.Duration
	s.Duration(&iv, "allocation_interval", time.Second, "")
	if _, err := s.Parse([]string{"--allocation_interval=soon"}); err == nil {
		t.Fatal("want error")
	}
	s2 := NewSet("t", io.Discard)
	var port int
	s2.Int(&port, "port", 5050, "")
	s2.SetEnv(func(k string) (string, bool) { return "notanumber", k == "CAIRN_PORT" })
	_, err := s2.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "CAIRN_PORT") {
		t.Fatalf("error %v should name CAIRN_PORT", err)
	}
}
