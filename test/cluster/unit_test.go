package cluster

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, "(empty)"},
		{"a\nb\n", 3, "a\nb"},
		{"a\nb\nc\nd\n", 2, "[... 2 earlier lines]\nc\nd"},
		{"a\nb\nc", 3, "a\nb\nc"},
	} {
		if got := lastLines(tc.in, tc.n); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestPickSubnet(t *testing.T) {
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
	first, err := pickSubnet(nil, nil, rng())
	if err != nil {
		t.Fatal(err)
	}
	if first < 1 || first > 254 {
		t.Fatalf("picked %d, want 1..254", first)
	}

	// The same draw avoids a subnet that a route overlaps or a cluster claims.
	for name, tc := range map[string]struct {
		used    []netip.Prefix
		claimed map[int]bool
	}{
		"route":      {used: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.250.%d.128/25", first))}},
		"address":    {used: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.250.%d.7/32", first))}},
		"claimed":    {claimed: map[int]bool{first: true}},
		"wide route": {used: []netip.Prefix{netip.MustParsePrefix("10.250.0.0/17"), netip.MustParsePrefix("10.250.128.0/17")}},
	} {
		got, err := pickSubnet(tc.used, tc.claimed, rng())
		if name == "wide route" {
			if err == nil {
				t.Errorf("%s: picked %d although all of 10.250.0.0/16 is routed", name, got)
			}
			continue
		}
		if err != nil || got == first {
			t.Errorf("%s: picked %d, %v; want another subnet than %d", name, got, err, first)
		}
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (*fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runEventually(tb *fatalTB, timeout time.Duration, cond func() error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(tb, timeout, cond)
	}()
	<-done
}

func TestEventually(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := &fatalTB{}
		calls := 0
		runEventually(tb, time.Minute, func() error {
			if calls++; calls < 3 {
				return errors.New("not yet")
			}
			return nil
		})
		if tb.msg != "" || calls != 3 {
			t.Errorf("after success on call 3: calls=%d, failure %q", calls, tb.msg)
		}

		tb = &fatalTB{}
		start := time.Now()
		runEventually(tb, 5*time.Second, func() error { return errors.New("agent 2 missing") })
		if !strings.Contains(tb.msg, "within 5s") || !strings.Contains(tb.msg, "agent 2 missing") {
			t.Errorf("failure message %q should give the timeout and the last error", tb.msg)
		}
		if waited := time.Since(start); waited < 5*time.Second || waited > 6*time.Second {
			t.Errorf("gave up after %v, want just past 5s", waited)
		}
	})
}

func TestBinaryFromEnvironment(t *testing.T) {
	t.Setenv("CAIRN_BIN", "/opt/cairn/bin/cairn")
	if got := Binary(t); got != "/opt/cairn/bin/cairn" {
		t.Errorf("Binary = %q, want $CAIRN_BIN", got)
	}
}

func TestHTTPClientIgnoresProxy(t *testing.T) {
	if tr, ok := HTTPClient().Transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Error("HTTPClient would honour HTTP_PROXY and send test traffic off the machine")
	}
}
