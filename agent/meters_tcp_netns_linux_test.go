package agent

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/internal/netdiag"
	"golang.org/x/sys/unix"
)

// TestKernelNetSocketsOwnNetns: a namespace set up as a task's own (eth0
// is one end of a veth whose other end is in a second test namespace)
// holds one established connection to the peer and one the task closed
// (TIME_WAIT). netSockets, with the real sock_diag and net/dev reads,
// reports both, the connection's round trip, and eth0's counters.
func TestKernelNetSocketsOwnNetns(t *testing.T) {
	kerneltest.Root(t)
	task, peer := kerneltest.Name("cntk"), kerneltest.Name("cnpr")
	vt, vp := kerneltest.Name("cnvt"), kerneltest.Name("cnvp")
	for _, ns := range []string{task, peer} {
		runIP(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	runIP(t, "link", "add", vt, "type", "veth", "peer", "name", vp)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", vt).Run() }) // if still on the host
	runIP(t, "link", "set", vt, "netns", task)
	runIP(t, "link", "set", vp, "netns", peer)
	runIP(t, "-n", task, "link", "set", vt, "name", taskDevice)
	for _, c := range [][]string{
		{"-n", task, "addr", "add", "10.77.0.1/30", "dev", taskDevice},
		{"-n", peer, "addr", "add", "10.77.0.2/30", "dev", vp},
		{"-n", task, "link", "set", taskDevice, "up"},
		{"-n", peer, "link", "set", vp, "up"},
	} {
		runIP(t, c...)
	}

	var ln net.Listener
	inNetns(t, peer, func() (err error) { ln, err = net.Listen("tcp4", "10.77.0.2:0"); return err })
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // echo until the task closes
				defer c.Close()
				b := make([]byte, 64)
				for n, err := c.Read(b); err == nil; n, err = c.Read(b) {
					c.Write(b[:n])
				}
			}()
		}
	}()
	var held net.Conn
	inNetns(t, task, func() error {
		for i := range 2 {
			c, err := net.Dial("tcp4", ln.Addr().String())
			if err != nil {
				return err
			}
			b := []byte("ping")
			c.Write(b)
			c.Read(b)
			if i == 0 {
				c.Close() // the active closer keeps TIME_WAIT
			} else {
				held = c
			}
		}
		return nil
	})
	t.Cleanup(func() { held.Close() })

	n := &netSockets{log: testLogger(), dump: netdiag.Sockets, inNetns: netdiag.InNetns,
		netns: func() map[ids.ContainerID]string { return map[ids.ContainerID]string{"own": "/run/netns/" + task} }}
	got, err := n.Shaping([]usage.Target{{Container: "own", CgroupID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sh, ok := got["own"]
	if !ok || sh.TCP == nil || sh.Device == nil {
		t.Fatalf("own namespace: %+v", sh)
	}
	t.Logf("tcp %+v, eth0 %+v", *sh.TCP, *sh.Device)
	if sh.TCP.Active != 1 || sh.TCP.TimeWait != 1 || !sh.TCP.HasRTT || sh.TCP.RTT[0] <= 0 || sh.TCP.RTT[3] > 1e6 {
		t.Errorf("tcp %+v: want the held connection with a round trip, and the closed one in TIME_WAIT", *sh.TCP)
	}
	if *sh.Device != (usage.Device{}) {
		t.Errorf("eth0 %+v: a quiet veth has no errors or drops", *sh.Device)
	}
	// The counters are the task's eth0, not the host's device of that name:
	// a handful of packets.
	ns, err := netdiag.InNetns("/run/netns/"+task, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ns.Devices {
		if d.Name == taskDevice && (d.TxPackets < 5 || d.TxPackets > 100) {
			t.Errorf("eth0 in the task's namespace sent %d packets, want the test's few", d.TxPackets)
		}
	}
}

func runIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

// inNetns runs fn on a thread in the named namespace; sockets fn creates
// live there. The thread is never unlocked: Go ends it with its goroutine.
func inNetns(t *testing.T, name string, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in netns %s: %v", name, err)
	}
}
