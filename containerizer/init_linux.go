package containerizer

import (
	"github.com/opencontainers/runc/libcontainer"

	// The device manager: without it libcontainer cannot apply the device
	// cgroup allow-list and refuses to start containers.
	_ "github.com/opencontainers/cgroups/devices"
	// C code that joins the container's namespaces before the Go runtime
	// starts, in the re-executed "init" process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// Init is the container side of Launch. libcontainer starts every container
// by re-executing the agent's own binary (a sealed copy) with os.Args[1] ==
// "init"; main must call Init first thing in that case, before parsing flags
// or starting anything. Init sets up the container from inside and execs the
// container's command: it never returns on success, and exits with status
// 255 on failure (the error has then already been reported to Launch).
func Init() {
	libcontainer.Init()
}
