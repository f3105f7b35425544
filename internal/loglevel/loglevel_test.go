package loglevel

import (
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
)

func TestSetRevertsAfterDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var v slog.LevelVar
		v.Set(slog.LevelWarn)
		l := New(&v)
		defer l.Stop()
		l.Set(1, 10*time.Second)
		if l.Get() != 1 || v.Level() != slog.LevelDebug {
			t.Fatalf("after Set(1): verbosity %d, level %v", l.Get(), v.Level())
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if l.Get() != 1 {
			t.Fatalf("reverted early: %d", l.Get())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if l.Get() != 0 || v.Level() != slog.LevelWarn {
			t.Fatalf("after the duration: verbosity %d, level %v; want 0 and the starting WARN", l.Get(), v.Level())
		}
	})
}

// A newer Set wins over the revert of an older one.
func TestNewerSetOutlivesOlderRevert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var v slog.LevelVar
		l := New(&v)
		defer l.Stop()
		l.Set(2, time.Second)
		l.Set(3, 0) // until the next Set
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if l.Get() != 3 || v.Level() != slog.LevelDebug {
			t.Fatalf("verbosity %d, level %v; want 3 at Debug", l.Get(), v.Level())
		}
		l.Set(0, 0)
		if v.Level() != slog.LevelInfo {
			t.Fatalf("level %v after Set(0), want the starting INFO", v.Level())
		}
	})
}

func TestWithoutLevelVar(t *testing.T) {
	l := New(nil)
	l.Set(1, 0)
	if l.Get() != 1 {
		t.Fatalf("verbosity %d, want 1 remembered", l.Get())
	}
	l.Stop()
}
