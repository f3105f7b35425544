package compat

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cairnhq/cairn/master"
)

// cluster is one in-process master and, optionally, a fake agent.
type cluster struct {
	base  string // http://127.0.0.1:port
	addr  string // 127.0.0.1:port
	m     *master.Master
	agent *fakeAgent
}

// heartbeat is short so that tests see HEARTBEAT events quickly.
const heartbeat = 300 * time.Millisecond

func startMaster(t *testing.T) *cluster {
	t.Helper()
	m, err := master.New(master.Config{
		IP: "127.0.0.1", Port: 0, GossipPort: 0, WorkDir: t.TempDir(), Hostname: "compat-master",
		AllocationInterval: 100 * time.Millisecond, HeartbeatInterval: heartbeat,
		MaxCompletedFrameworks: 50, MaxCompletedTasksPerFramework: 1000,
		Flags: func() map[string]string { return map[string]string{"port": "0", "quorum": "1"} },
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("master Run: %v", err)
		}
	})
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("master did not start: %v", err)
	}
	addr := m.Addr().String()
	return &cluster{base: "http://" + addr, addr: addr, m: m}
}

// startCluster is a master with one admitted fake agent.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := startMaster(t)
	c.agent = startFakeAgent(t, c.base)
	return c
}
