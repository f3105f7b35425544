package containerizer

import (
	"context"
	"os"
	"path"
	"time"

	"github.com/opencontainers/cgroups"

	"github.com/cairnhq/cairn/internal/systemd"
)

// driverEnv is the variable the agent's --cgroups_driver flag falls back
// to (internal/flags maps --x_y to CAIRN_X_Y). Read here too, for an empty
// Config.CgroupsDriver, so that setting it in /etc/default/cairn-agent
// works the same whether or not the embedding program has the flag.
const driverEnv = "CAIRN_CGROUPS_DRIVER"

// requestedDriver is Config.CgroupsDriver, or $CAIRN_CGROUPS_DRIVER when
// that is empty.
func requestedDriver(cfg string) string {
	if cfg != "" {
		return cfg
	}
	return os.Getenv(driverEnv)
}

// probeSystemd returns nil when systemd is the init of this pid namespace
// and answers on D-Bus, or why not. It blocks at most a few seconds.
func probeSystemd() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := systemd.ManagerVersion(ctx)
	return err
}

// placement says where libcontainer puts container id's cgroups: a path
// below root (cgroupfs) or a transient scope in cairn.slice (systemd). The
// caller adds the resources.
func (h hostCgroups) placement(root, id string) cgroups.Cgroup {
	if h.driver == driverSystemd {
		return cgroups.Cgroup{
			Systemd:      true,
			Parent:       systemdSlice,
			ScopePrefix:  scopePrefix,
			Name:         id,
			SystemdProps: systemd.ScopeProperties(),
		}
	}
	return cgroups.Cgroup{Path: path.Join(root, id)}
}
