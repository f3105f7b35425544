//go:build linux

package fake

import (
	"context"
	"syscall"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
)

// api is every method the agent may use; both containerizers must have it.
type api interface {
	Launch(ctx context.Context, spec containerizer.Spec) (int, error)
	Wait(ctx context.Context, id ids.ContainerID) (containerizer.Exit, error)
	Signal(id ids.ContainerID, sig syscall.Signal) error
	SignalAll(id ids.ContainerID, sig syscall.Signal) error
	Destroy(ctx context.Context, id ids.ContainerID) error
	Usage(id ids.ContainerID) (containerizer.Usage, error)
	Containers() ([]ids.ContainerID, error)
	Recover(ctx context.Context, id ids.ContainerID) (int, error)
	CgroupPaths(id ids.ContainerID) (map[string]string, error)
	SandboxPath(hostSandbox string) string
}

var (
	_ api = (*Containerizer)(nil)
	_ api = (*containerizer.Linux)(nil)
)
