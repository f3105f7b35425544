package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/scheduler"
)

// runOptions are cairn run's flags.
type runOptions struct {
	master     string
	cpus, mem  float64
	disk       float64
	netMbps    float64 // network_bandwidth, Mbit/s
	networks   string  // comma-separated network names (ContainerInfo.network_infos)
	name       string
	role       string
	framework  string
	checkpoint bool
	quiet      bool
}

func runTask(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn run", os.Stderr)
	var o runOptions
	masterFlag(fs, &o.master)
	fs.Float(&o.cpus, "cpus", 0.1, "CPUs for the task")
	fs.Float(&o.mem, "mem", 32, "memory for the task, MB")
	fs.Float(&o.disk, "disk", 0, "disk for the task, MB")
	fs.Float(&o.netMbps, "network_bandwidth", 0, "egress bandwidth for the task, Mbit/s (enforced by agents with --isolation=...,network/bandwidth)")
	fs.String(&o.networks, "networks", "", "networks to join, comma separated (e.g. cairn: the task gets its own network namespace on the agent's bridge, limited both ways at --network_bandwidth)")
	fs.String(&o.name, "name", "cairn-run", "task name (the task id is the name plus a random suffix)")
	fs.String(&o.role, "role", "*", "the framework's role")
	fs.String(&o.framework, "framework_name", "cairn-run", "framework name")
	fs.Bool(&o.checkpoint, "checkpoint", false, "register a checkpointing framework (tasks survive agent restarts)")
	fs.Bool(&o.quiet, "quiet", false, "do not print state changes")
	cmd, err := fs.Parse(args)
	if err != nil {
		return exitCode("run", err)
	}
	if len(cmd) == 0 {
		return exitCode("run", errors.New("no command: cairn run [flags] -- CMD [ARGS...]"))
	}
	for name, v := range map[string]float64{"cpus": o.cpus, "mem": o.mem, "disk": o.disk, "network_bandwidth": o.netMbps} {
		if v < 0 || v != v || v > 1e12 {
			return exitCode("run", fmt.Errorf("--%s=%v: must be a finite number ≥ 0", name, v))
		}
	}
	if o.cpus == 0 && o.mem == 0 {
		return exitCode("run", errors.New("a task needs some --cpus or --mem"))
	}
	r := &runner{opts: o, cmd: cmd, out: os.Stdout, errOut: os.Stderr, http: &http.Client{Timeout: 10 * time.Second}}
	return exitCode("run", r.run(ctx))
}

// runner is one cairn run: a framework with one task.
type runner struct {
	opts        runOptions
	cmd         []string
	out, errOut io.Writer
	http        *http.Client

	client   *scheduler.Client
	taskID   string
	agentID  *mesospb.AgentID
	agentURL string // http://host:port of the task's agent
	launched bool
	saidIP   bool // the task's IP on its network was printed
	waiting  bool
	follow   *follower
	exit     int
	done     bool
}

func (r *runner) run(ctx context.Context) error {
	username := "root"
	if u, err := user.Current(); err == nil {
		username = u.Username
	}
	r.taskID = r.opts.name + "-" + uuid.NewString()[:8]
	r.client = scheduler.New(scheduler.Config{
		Masters: []string{r.opts.master},
		FrameworkInfo: &mesospb.FrameworkInfo{
			User:       proto.String(username),
			Name:       proto.String(r.opts.framework),
			Roles:      []string{r.opts.role},
			Checkpoint: proto.Bool(r.opts.checkpoint),
			Capabilities: []*mesospb.FrameworkInfo_Capability{
				{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE.Enum()},
				{Type: mesospb.FrameworkInfo_Capability_TASK_KILLING_STATE.Enum()},
			},
		},
	})
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// On Ctrl-C, kill the task and keep going until it is terminal.
	go func() {
		select {
		case <-ctx.Done():
		case <-runCtx.Done():
			return
		}
		// Waiting is bounded: a machine shutting down (systemd signals
		// every process once, then waits) must not wait on a master that
		// may already be gone.
		wait := time.NewTimer(interruptWait)
		defer wait.Stop()
		if r.launched {
			fmt.Fprintf(r.errOut, "Killing task %s\n", r.taskID)
			kctx, kcancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := r.client.Kill(kctx, &mesospb.TaskID{Value: proto.String(r.taskID)}, r.agentID, nil)
			kcancel()
			if err != nil {
				fmt.Fprintf(r.errOut, "Could not ask the master to kill task %s: %v\n", r.taskID, err)
				cancel()
				return
			}
		}
		select {
		case <-wait.C:
			cancel()
		case <-runCtx.Done():
		}
	}()
	err := r.client.Run(runCtx, scheduler.HandlerFunc(r.handle))
	if errors.Is(err, errDone) {
		err = nil
	}
	if err != nil {
		return err
	}
	if !r.done {
		return errors.New("interrupted before the task finished")
	}
	if r.exit != 0 {
		return &exitError{code: r.exit}
	}
	return nil
}

// interruptWait bounds how long cairn run waits, once interrupted, for its
// task to be reported killed: a little more than the command executor's
// default kill grace.
const interruptWait = 8 * time.Second

// errDone ends the scheduler's Run once the task is terminal.
var errDone = errors.New("task done")

func (r *runner) handle(ctx context.Context, ev *schedulerpb.Event) error {
	switch ev.GetType() {
	case schedulerpb.Event_SUBSCRIBED:
		r.logf("Subscribed as framework %s", ev.GetSubscribed().GetFrameworkId().GetValue())
	case schedulerpb.Event_OFFERS:
		return r.offers(ctx, ev.GetOffers().GetOffers())
	case schedulerpb.Event_UPDATE:
		if err := r.update(ev.GetUpdate().GetStatus()); !errors.Is(err, errDone) {
			return err
		}
		// Acknowledge the terminal update before leaving: the handler's
		// return would do it, but Teardown comes first and closes the stream.
		st := ev.GetUpdate().GetStatus()
		if len(st.GetUuid()) > 0 {
			_ = r.client.Acknowledge(ctx, st.GetAgentId(), st.GetTaskId(), st.GetUuid())
		}
		if err := r.client.Teardown(ctx); err != nil {
			r.logf("teardown: %v", err)
		}
		return errDone
	case schedulerpb.Event_ERROR:
		return fmt.Errorf("master: %s", ev.GetError().GetMessage())
	}
	return nil
}

func (r *runner) offers(ctx context.Context, offers []*mesospb.Offer) error {
	var decline []*mesospb.OfferID
	for _, o := range offers {
		if r.launched || !r.fits(o) {
			decline = append(decline, o.GetId())
			continue
		}
		task := r.task(o)
		if err := r.client.Launch(ctx, []*mesospb.OfferID{o.GetId()}, []*mesospb.TaskInfo{task}, nil); err != nil {
			return fmt.Errorf("launch: %w", err)
		}
		r.launched = true
		r.agentID = o.GetAgentId()
		addr := o.GetUrl().GetAddress()
		host := addr.GetIp()
		if host == "" {
			host = addr.GetHostname()
		}
		r.agentURL = "http://" + net.JoinHostPort(host, strconv.Itoa(int(addr.GetPort())))
		r.logf("Launching task %s on agent %s (%s)", r.taskID, o.GetAgentId().GetValue(), o.GetHostname())
	}
	if len(decline) > 0 {
		refuse := 1.0
		if r.launched {
			refuse = 3600
		}
		if err := r.client.Decline(ctx, decline, &mesospb.Filters{RefuseSeconds: proto.Float64(refuse)}); err != nil {
			return fmt.Errorf("decline: %w", err)
		}
	}
	if r.launched {
		return r.client.Suppress(ctx)
	}
	if !r.waiting {
		r.waiting = true
		r.logf("Waiting for an offer with cpus=%v mem=%v disk=%v network_bandwidth=%v", r.opts.cpus, r.opts.mem, r.opts.disk, r.opts.netMbps)
	}
	return nil
}

// fits reports whether the offer holds the task's resources.
func (r *runner) fits(o *mesospb.Offer) bool {
	rs := o.GetResources()
	return scalar(rs, "cpus") >= r.opts.cpus && scalar(rs, "mem") >= r.opts.mem && scalar(rs, "disk") >= r.opts.disk &&
		scalar(rs, "network_bandwidth") >= r.opts.netMbps
}

func (r *runner) task(o *mesospb.Offer) *mesospb.TaskInfo {
	var res []*mesospb.Resource
	alloc := &mesospb.Resource_AllocationInfo{Role: proto.String(r.opts.role)}
	for _, s := range []struct {
		name string
		v    float64
	}{{"cpus", r.opts.cpus}, {"mem", r.opts.mem}, {"disk", r.opts.disk}, {"network_bandwidth", r.opts.netMbps}} {
		if s.v > 0 {
			res = append(res, &mesospb.Resource{
				Name:           proto.String(s.name),
				Type:           mesospb.Value_SCALAR.Enum(),
				Scalar:         &mesospb.Value_Scalar{Value: proto.Float64(s.v)},
				AllocationInfo: alloc,
			})
		}
	}
	cmd := &mesospb.CommandInfo{}
	if len(r.cmd) == 1 {
		cmd.Value = proto.String(r.cmd[0]) // a shell command line
	} else {
		cmd.Shell = proto.Bool(false)
		cmd.Value = proto.String(r.cmd[0])
		cmd.Arguments = r.cmd
	}
	t := &mesospb.TaskInfo{
		Name:      proto.String(r.opts.name),
		TaskId:    &mesospb.TaskID{Value: proto.String(r.taskID)},
		AgentId:   o.GetAgentId(),
		Resources: res,
		Command:   cmd,
	}
	for _, n := range strings.Split(r.opts.networks, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if t.Container == nil {
			t.Container = &mesospb.ContainerInfo{Type: mesospb.ContainerInfo_MESOS.Enum()}
		}
		t.Container.NetworkInfos = append(t.Container.NetworkInfos, &mesospb.NetworkInfo{Name: proto.String(n)})
	}
	return t
}

var exitStatusRE = regexp.MustCompile(`exited with status (\d+)`)

func (r *runner) update(st *mesospb.TaskStatus) error {
	if st.GetTaskId().GetValue() != r.taskID {
		return nil
	}
	line := fmt.Sprintf("Task %s is %s", r.taskID, st.GetState())
	if st.Reason != nil {
		line += " (" + st.GetReason().String() + ")"
	}
	if st.GetMessage() != "" {
		line += ": " + st.GetMessage()
	}
	r.logf("%s", line)
	for _, n := range st.GetContainerStatus().GetNetworkInfos() {
		for _, ip := range n.GetIpAddresses() {
			if !r.saidIP {
				r.saidIP = true
				r.logf("Task %s has IP %s on network %s", r.taskID, ip.GetIpAddress(), n.GetName())
			}
		}
	}
	if r.follow == nil && r.agentURL != "" && st.GetState() != mesospb.TaskState_TASK_STAGING {
		r.follow = startFollower(r.http, r.agentURL, r.sandboxPath(), r.out, r.errOut)
	}
	if !st.GetState().Terminal() {
		return nil
	}
	if r.follow != nil {
		r.follow.stop()
	}
	r.done = true
	switch {
	case st.GetState() == mesospb.TaskState_TASK_FINISHED:
		r.exit = 0
	case exitStatusRE.MatchString(st.GetMessage()):
		n, _ := strconv.Atoi(exitStatusRE.FindStringSubmatch(st.GetMessage())[1])
		r.exit = n
	default:
		r.exit = 1
	}
	return errDone
}

// sandboxPath is Mesos's virtual path of the task's latest run.
func (r *runner) sandboxPath() string {
	return fmt.Sprintf("/frameworks/%s/executors/%s/runs/latest", r.client.FrameworkID(), r.taskID)
}

func (r *runner) logf(format string, args ...any) {
	if !r.opts.quiet {
		fmt.Fprintf(r.errOut, format+"\n", args...)
	}
}
