package agent

import (
	"log/slog"
	"sync"
	"time"
)

// logLevel is the operator's logging verbosity (GET/SET_LOGGING_LEVEL),
// Mesos's glog verbosity: 0 is the level the agent started with, 1 and
// above log at Debug. It takes effect through Config.LogLevel (without it
// the level is only remembered). A set level reverts to 0 after its
// duration, as in Mesos. Safe for concurrent use.
type logLevel struct {
	mu    sync.Mutex
	level uint32
	gen   uint64 // bumped by every set, so an older revert does nothing
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

// set changes the verbosity for d (until the next set when d <= 0).
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
