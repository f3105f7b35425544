package master

import (
	"log/slog"
	"sync"
	"time"
)

// logLevel is the operator's logging verbosity (GET/SET_LOGGING_LEVEL):
// Mesos's glog verbosity, where 0 is the default and higher is chattier.
// With a slog.LevelVar (Config.LogLevel) it takes effect: 0 keeps the
// level the daemon started with, 1 and above log at Debug. A set level
// reverts to 0 after its duration, as in Mesos.
type logLevel struct {
	mu    sync.Mutex
	level uint32
	gen   uint64 // bumped by every set, so an old revert timer does nothing
	v     *slog.LevelVar
	base  slog.Level
	timer *time.Timer
}

func newLogLevel(v *slog.LevelVar) *logLevel {
	l := &logLevel{v: v}
	if v != nil {
		l.base = v.Level()
	}
	return l
}

func (l *logLevel) get() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.level
}

// set changes the verbosity for d (forever when d <= 0).
func (l *logLevel) set(level uint32, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	l.apply(level)
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if d > 0 && level != 0 {
		gen := l.gen
		l.timer = time.AfterFunc(d, func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.gen == gen {
				l.apply(0)
			}
		})
	}
}

func (l *logLevel) apply(level uint32) {
	l.level = level
	if l.v == nil {
		return
	}
	if level == 0 {
		l.v.Set(l.base)
	} else {
		l.v.Set(min(l.base, slog.LevelDebug))
	}
}

// stop cancels a pending revert (shutdown).
func (l *logLevel) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
}
