package systemd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSystemd stands in for systemd's notification socket: a unix datagram
// socket whose path goes into NOTIFY_SOCKET.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return &fakeSystemd{t: t, conn: conn}
}

// drain returns the messages already queued, without waiting: inside a
// synctest bubble, after synctest.Wait, every message sent so far is queued,
// since a datagram send completes before the sender blocks again.
func (f *fakeSystemd) drain() []string {
	f.t.Helper()
	raw, err := f.conn.SyscallConn()
	if err != nil {
		f.t.Fatal(err)
	}
	var msgs []string
	buf := make([]byte, 4096)
	for {
		var n int
		var rerr error
		if err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true
		}); err != nil {
			f.t.Fatal(err)
		}
		if errors.Is(rerr, syscall.EAGAIN) {
			return msgs
		}
		if rerr != nil {
			f.t.Fatal(rerr)
		}
		msgs = append(msgs, string(buf[:n]))
	}
}

func (f *fakeSystemd) expect(want ...string) {
	f.t.Helper()
	if got := f.drain(); !slices.Equal(got, want) {
		f.t.Fatalf("notifications: got %q, want %q", got, want)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestNotifierWithoutSocketIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	n := NewNotifier(discard())
	if n.Enabled() || n.WatchdogInterval() != 0 {
		t.Fatalf("enabled=%v watchdog=%v without NOTIFY_SOCKET", n.Enabled(), n.WatchdogInterval())
	}
	for _, f := range []func() error{n.Ready, n.Stopping, func() error { return n.Status("x") }} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	// Returns at once: a blocking no-op would hang the test.
	if err := n.Watchdog(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantErr := errors.New("boom")
	if err := n.Supervise(context.Background(), nil, func(context.Context) error { return wantErr }); err != wantErr {
		t.Fatalf("Supervise: %v, want run's error", err)
	}
}

func TestNotifierMessages(t *testing.T) {
	f := newFakeSystemd(t)
	n := NewNotifier(discard())
	if !n.Enabled() {
		t.Fatal("not enabled with NOTIFY_SOCKET set")
	}
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if err := n.Status("serving\non :5050"); err != nil {
		t.Fatal(err)
	}
	if err := n.Stopping(); err != nil {
		t.Fatal(err)
	}
	f.expect("READY=1", "STATUS=serving on :5050", "STOPPING=1")
}

func TestNotifierSocketGone(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	if err := NewNotifier(discard()).Ready(); err == nil {
		t.Fatal("Ready to a missing socket: no error")
	}
}

func TestSuperviseReadyOnlyWhenServing(t *testing.T) {
	f := newFakeSystemd(t)
	synctest.Test(t, func(t *testing.T) {
		n := NewNotifier(discard())
		ready := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan error, 1)
		go func() {
			result <- n.Supervise(ctx, ready, func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			})
		}()
		time.Sleep(time.Hour) // however long the start takes
		synctest.Wait()
		f.expect()
		close(ready)
		synctest.Wait()
		f.expect("READY=1")
		cancel()
		if err := <-result; err != nil {
			t.Fatal(err)
		}
		f.expect("STOPPING=1")
	})
}

func TestSuperviseStoppedBeforeReady(t *testing.T) {
	f := newFakeSystemd(t)
	synctest.Test(t, func(t *testing.T) {
		n := NewNotifier(discard())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := n.Supervise(ctx, make(chan struct{}), func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.expect("STOPPING=1")
	})
}

func TestSuperviseFailedStart(t *testing.T) {
	f := newFakeSystemd(t)
	n := NewNotifier(discard())
	err := n.Supervise(context.Background(), make(chan struct{}), func(context.Context) error {
		return errors.New("listen for http: address in use")
	})
	if err == nil {
		t.Fatal("run's error lost")
	}
	f.expect("STATUS=failed: listen for http: address in use")
}

func TestWatchdogPingsAtHalfInterval(t *testing.T) {
	f := newFakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	synctest.Test(t, func(t *testing.T) {
		n := NewNotifier(discard())
		if got := n.WatchdogInterval(); got != time.Second {
			t.Fatalf("interval %v, want 1s (half of WatchdogSec=2)", got)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Watchdog(ctx) }()
		synctest.Wait()
		f.expect("WATCHDOG=1") // at once: the start may have eaten into the budget
		time.Sleep(time.Second - time.Millisecond)
		synctest.Wait()
		f.expect()
		time.Sleep(time.Millisecond)
		synctest.Wait()
		f.expect("WATCHDOG=1")
		time.Sleep(3 * time.Second)
		synctest.Wait()
		f.expect("WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1")
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		f.expect()
	})
}

func TestWatchdogOff(t *testing.T) {
	for _, tc := range []struct{ name, usec, pid string }{
		{"unset", "", ""},
		{"other pid", "2000000", "1"},
		{"malformed", "soon", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSystemd(t)
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			n := NewNotifier(discard())
			if n.WatchdogInterval() != 0 {
				t.Fatalf("watchdog on: %v", n.WatchdogInterval())
			}
			if err := n.Watchdog(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.expect()
		})
	}
}
