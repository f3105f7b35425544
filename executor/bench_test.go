package executor

import (
	"context"
	"os"
	"testing"
)

// BenchmarkSubscribe measures executor start to SUBSCRIBED: what every
// command task pays before it can launch.
func BenchmarkSubscribe(b *testing.B) {
	a := newFakeAgent(b)
	cfg := benchConfig(b, a)
	for b.Loop() {
		e, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		recv(b, a.subs, "SUBSCRIBE")
		cancel()
		<-done
	}
}

// BenchmarkTask runs a whole command task per iteration: subscribe,
// launch `true`, STARTING, RUNNING, FINISHED, acknowledgements, exit.
func BenchmarkTask(b *testing.B) {
	a := newFakeAgent(b)
	cfg := benchConfig(b, a)
	for b.Loop() {
		e, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- e.Run(context.Background()) }()
		recv(b, a.subs, "SUBSCRIBE")
		a.launch(shellTask("task-1", "true"))
		for range 3 {
			recv(b, a.updates, "update")
		}
		if err := recv(b, done, "executor exit"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

func benchConfig(b *testing.B, a *fakeAgent) Config {
	sandbox := b.TempDir()
	cfg, err := ConfigFromEnv(append(os.Environ(),
		"MESOS_AGENT_ENDPOINT="+a.endpoint(),
		"MESOS_FRAMEWORK_ID=fw-0000",
		"MESOS_EXECUTOR_ID=task-1",
		"MESOS_SANDBOX="+sandbox,
	))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}
