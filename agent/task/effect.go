package task

import (
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
)

// Effect is something the shell must do for an executor.
type Effect interface{ effect() }

// SendLaunch: send a LAUNCH event with the task to the executor.
type SendLaunch struct{ Task *mesospb.TaskInfo }

// SendKill: send a KILL event to the executor.
type SendKill struct {
	TaskID ids.TaskID
	Policy *mesospb.KillPolicy
}

// SendShutdown: send a SHUTDOWN event to the executor.
type SendShutdown struct{}

// Report: the agent's own status update of a task; the shell stamps uuid,
// timestamp, agent and container ids and hands it to the status update
// manager.
type Report struct{ Status *mesospb.TaskStatus }

// Destroy: destroy the container (kill its processes). Its exit arrives
// later as Exited.
type Destroy struct{}

// Release: the container exited and every terminal update was
// acknowledged; remove the container's cgroups, free the executor's
// resources and forget it (the sandbox stays).
type Release struct{}

func (SendLaunch) effect()   {}
func (SendKill) effect()     {}
func (SendShutdown) effect() {}
func (Report) effect()       {}
func (Destroy) effect()      {}
func (Release) effect()      {}
