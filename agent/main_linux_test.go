package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/cairnhq/cairn/containerizer"
	commandexecutor "github.com/cairnhq/cairn/executor"
)

// TestMain lets the test binary serve as the container init for the kernel
// tests (libcontainer re-executes it with "init" as the first argument) and
// as Cairn's command executor inside the containers ("executor"), so that
// kernel tests run command tasks with ExecutorBinary = the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		containerizer.Init()
	}
	if len(os.Args) > 1 && os.Args[1] == "executor" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := commandexecutor.Run(ctx, os.Environ(), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "executor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
