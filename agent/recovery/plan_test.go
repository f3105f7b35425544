package recovery

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

func uuid(n byte) []byte {
	u := make([]byte, 16)
	u[15] = n
	return u
}

// upd is an update entry; src "e" for the executor, "a" for the agent.
func upd(state mesospb.TaskState, src string, n byte) checkpoint.Entry {
	source := mesospb.TaskStatus_SOURCE_AGENT
	if src == "e" {
		source = mesospb.TaskStatus_SOURCE_EXECUTOR
	}
	return checkpoint.Entry{Update: &internalpb.StatusUpdate{Status: &mesospb.TaskStatus{
		State: state.Enum(), Source: source.Enum(), Uuid: uuid(n)}}}
}

func ack(n byte) checkpoint.Entry { return checkpoint.Entry{Ack: uuid(n)} }

// run builds a checkpointed run of container c with pid and one task per log.
func run(c string, pid int, logs ...[]checkpoint.Entry) *checkpoint.Run {
	r := &checkpoint.Run{Ref: checkpoint.RunRef{Agent: "a", Framework: "fw", Executor: ids.ExecutorID("e-" + c), Container: ids.ContainerID(c)}, Pid: pid}
	for i, l := range logs {
		id := fmt.Sprintf("%s-t%d", c, i)
		r.Tasks = append(r.Tasks, &checkpoint.Task{ID: ids.TaskID(id), Info: &mesospb.TaskInfo{TaskId: &mesospb.TaskID{Value: proto.String(id)}}, Log: l})
	}
	return r
}

func state(boot string, runs ...*checkpoint.Run) *checkpoint.State {
	fw := &checkpoint.Framework{ID: "fw", Info: &mesospb.FrameworkInfo{Checkpoint: proto.Bool(true)}}
	for _, r := range runs {
		fw.Executors = append(fw.Executors, &checkpoint.Executor{ID: r.Ref.Executor, Runs: []*checkpoint.Run{r}})
	}
	return &checkpoint.State{BootID: boot, Frameworks: []*checkpoint.Framework{fw}}
}

type entries = []checkpoint.Entry

var (
	running  = entries{upd(mesospb.TaskState_TASK_STARTING, "e", 1), ack(1), upd(mesospb.TaskState_TASK_RUNNING, "e", 2)}
	finished = entries{upd(mesospb.TaskState_TASK_RUNNING, "e", 1), ack(1), upd(mesospb.TaskState_TASK_FINISHED, "e", 2)}
	over     = entries{upd(mesospb.TaskState_TASK_RUNNING, "e", 1), ack(1), upd(mesospb.TaskState_TASK_FINISHED, "e", 2), ack(2)}
	killed   = entries{upd(mesospb.TaskState_TASK_KILLED, "a", 1)}
)

// describe renders a plan compactly: "run c1 reattach [t0 RUNNING exec]; destroy c9; forget c3".
func describe(p Plan) string {
	var parts []string
	if p.Rebooted {
		parts = append(parts, "rebooted")
	}
	for _, r := range p.Runs {
		var ts []string
		for _, t := range r.Tasks {
			s := strings.TrimPrefix(t.State.String(), "TASK_")
			if t.Terminal && !t.Acked {
				s += " unacked"
			}
			if t.AtExecutor {
				s += " exec"
			}
			ts = append(ts, s)
		}
		parts = append(parts, fmt.Sprintf("run %s %s [%s]", r.Run.Ref.Container, r.Action, strings.Join(ts, ", ")))
	}
	for _, c := range p.Destroy {
		parts = append(parts, "destroy "+string(c))
	}
	for _, f := range p.Forget {
		parts = append(parts, "forget "+string(f.Container))
	}
	return strings.Join(parts, "; ")
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"nothing checkpointed, leftovers of a non-checkpointing framework are destroyed",
			Input{State: state("b1"), Alive: []ids.ContainerID{"x2", "x1"}, BootID: "b1"},
			"destroy x1; destroy x2"},
		{"running container is re-attached",
			Input{State: state("b1", run("c1", 10, running)), Alive: []ids.ContainerID{"c1"}, BootID: "b1"},
			"run c1 reattach [RUNNING exec]"},
		{"container gone while the agent was down",
			Input{State: state("b1", run("c1", 10, running)), BootID: "b1"},
			"run c1 terminated [RUNNING exec]"},
		{"container gone after its executor reported the end: the update is delivered",
			Input{State: state("b1", run("c1", 10, finished)), BootID: "b1"},
			"run c1 terminated [FINISHED unacked exec]"},
		{"launch interrupted before the container ran",
			Input{State: state("b1", run("c1", 0, nil)), BootID: "b1"},
			"run c1 never_started [STAGING]"},
		{"container started but pid not yet recorded is still re-attached",
			Input{State: state("b1", run("c1", 0, nil)), Alive: []ids.ContainerID{"c1"}, BootID: "b1"},
			"run c1 reattach [STAGING]"},
		{"finished and acknowledged run is forgotten, its lingering container destroyed",
			Input{State: state("b1", run("c1", 10, over)), Alive: []ids.ContainerID{"c1"}, BootID: "b1"},
			"destroy c1; forget c1"},
		{"agent-made terminal update is not an executor's",
			Input{State: state("b1", run("c1", 10, killed)), BootID: "b1"},
			"run c1 terminated [KILLED unacked]"},
		{"reboot: nothing is re-attached, live tasks are lost, stale containers go",
			Input{State: state("b1", run("c1", 10, running), run("c2", 11, finished)), Alive: []ids.ContainerID{"c1"}, BootID: "b2"},
			"rebooted; run c1 lost [RUNNING exec]; run c2 lost [FINISHED unacked exec]; destroy c1"},
		{"first start with this work dir (no boot id yet) is no reboot",
			Input{State: state("", run("c1", 10, running)), Alive: []ids.ContainerID{"c1"}, BootID: "b2"},
			"run c1 reattach [RUNNING exec]"},
		{"cleanup kills what runs",
			Input{State: state("b1", run("c1", 10, running), run("c2", 11, running)), Alive: []ids.ContainerID{"c1", "x"}, BootID: "b1", Mode: Cleanup},
			"run c1 kill [RUNNING exec]; run c2 terminated [RUNNING exec]; destroy c1; destroy x"},
		{"an executor with one task over and one running",
			Input{State: state("b1", run("c1", 10, over, running)), Alive: []ids.ContainerID{"c1"}, BootID: "b1"},
			"run c1 reattach [FINISHED exec, RUNNING exec]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(Decide(tc.in)); got != tc.want {
				t.Fatalf("plan\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestReplayIgnoresUpdatesAfterTerminal(t *testing.T) {
	task := replay(&checkpoint.Task{Log: entries{upd(mesospb.TaskState_TASK_FAILED, "a", 1), upd(mesospb.TaskState_TASK_RUNNING, "e", 2), ack(2), ack(1)}})
	if task.State != mesospb.TaskState_TASK_FAILED || !task.Terminal || !task.Acked || task.AtExecutor {
		t.Fatalf("task %+v", task)
	}
	if !slices.Equal(uuid(1), task.Log[0].Update.GetStatus().GetUuid()) {
		t.Fatal("log not kept")
	}
}
