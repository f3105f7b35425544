package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/test/cluster"
	"github.com/vishvananda/netns"
)

// Goodput TCP gets out of an HTB rate on a 1500-byte MTU with timestamps:
// 1448 bytes of payload per 1514-byte frame (docs/netbw.md).
const goodputPerRate = 1448.0 / 1514.0

// sink counts the bytes every connection to it delivers.
type sink struct {
	ln    net.Listener
	bytes atomic.Uint64
	mu    sync.Mutex
	conns []net.Conn
}

func newSink(t *testing.T, ip string) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				buf := make([]byte, 256<<10)
				for {
					n, err := c.Read(buf)
					s.bytes.Add(uint64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *sink) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// TestNetworkBandwidthShares: an agent with network/bandwidth and
// --egress_ceil=rate, two frameworks on it each running a task that sends
// TCP as fast as it can, one asking 20 Mbit/s, the other 50: each gets its
// share, measured at the receiver (the test process, across the cluster's
// bridge: the agent's egress interface is its node's veth, never the
// host's). The agent's statistics and metrics say the same.
func TestNetworkBandwidthShares(t *testing.T) {
	e := newEnv(t, 1)
	n := e.c.Node(0)
	e.startMaster(0)
	agent := e.startAgent("agent", 0, n.Addr(5050),
		"--isolation=cgroups/cpu,cgroups/mem,cgroups/pids,network/bandwidth",
		"--egress_interface=eth0", "--egress_ceil=rate", "--resources=network_bandwidth:100")
	e.waitAgents(0, 1)

	rates := []float64{20, 50}
	sinks := make([]*sink, len(rates))
	for i, mbps := range rates {
		sinks[i] = newSink(t, e.c.HostIP.String())
		name := fmt.Sprintf("bw%g", mbps)
		send := fmt.Sprintf("exec cat /dev/zero > /dev/tcp/%s/%d", e.c.HostIP, sinks[i].port())
		p := n.Start("run-"+name, []string{e.bin, "run", "--master=" + n.Addr(5050), "--cpus=0.2", "--mem=64",
			fmt.Sprintf("--network_bandwidth=%g", mbps), "--name=" + name, "--framework_name=" + name,
			"--", "bash", "-c", send}, nil)
		t.Cleanup(func() { _ = p.Kill(syscall.SIGTERM) })
	}
	cluster.Eventually(t, startTimeout, func() error {
		for i, s := range sinks {
			if s.bytes.Load() == 0 {
				return fmt.Errorf("no bytes from the task of %g Mbit/s yet\n%s", rates[i], agent.proc.Log())
			}
		}
		return nil
	})
	// TCP's start and the first HTB rounds are not what is measured.
	time.Sleep(3 * time.Second)
	const window = 6 * time.Second
	before := make([]uint64, len(sinks))
	for i, s := range sinks {
		before[i] = s.bytes.Load()
	}
	start := time.Now()
	time.Sleep(window)
	took := time.Since(start).Seconds()
	for i, s := range sinks {
		got := float64(s.bytes.Load()-before[i]) * 8 / took / 1e6
		want := rates[i] * goodputPerRate
		t.Logf("framework with %g Mbit/s: goodput %.2f Mbit/s (expected %.2f, %+.1f %%)", rates[i], got, want, (got/want-1)*100)
		if got < want*0.95 || got > want*1.05 {
			t.Errorf("framework with %g Mbit/s: goodput %.2f Mbit/s, want %.2f ± 5 %%", rates[i], got, want)
		}
	}

	stats := agentGetBody(t, n.Addr(5051), "/monitor/statistics")
	for _, want := range []string{`"net_tx_rate_limit":2500000`, `"net_tx_rate_limit":6250000`, `"net_traffic_control_statistics":[{"id":"egress"`} {
		if !strings.Contains(stats, want) {
			t.Errorf("/monitor/statistics lacks %s:\n%s", want, stats)
		}
	}
	metrics := agentGetBody(t, n.Addr(5051), "/metrics")
	for _, want := range []string{"cairn_netbw_class_rate_bits_per_second{framework_id=", "} 2e+07", "} 5e+07", "cairn_netbw_class_bytes_total{framework_id="} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestNetworkBandwidthBorrows: with the default --egress_ceil=link, a
// framework alone on the link borrows what nobody uses: its task of
// 20 Mbit/s gets nearly the whole 100.
func TestNetworkBandwidthBorrows(t *testing.T) {
	e := newEnv(t, 1)
	n := e.c.Node(0)
	e.startMaster(0)
	e.startAgent("agent", 0, n.Addr(5050),
		"--isolation=cgroups/cpu,cgroups/mem,cgroups/pids,network/bandwidth",
		"--egress_interface=eth0", "--resources=network_bandwidth:100")
	e.waitAgents(0, 1)
	s := newSink(t, e.c.HostIP.String())
	send := fmt.Sprintf("exec cat /dev/zero > /dev/tcp/%s/%d", e.c.HostIP, s.port())
	p := n.Start("run-bw20", []string{e.bin, "run", "--master=" + n.Addr(5050), "--cpus=0.2", "--mem=64",
		"--network_bandwidth=20", "--", "bash", "-c", send}, nil)
	t.Cleanup(func() { _ = p.Kill(syscall.SIGTERM) })
	cluster.Eventually(t, startTimeout, func() error {
		if s.bytes.Load() == 0 {
			return fmt.Errorf("no bytes yet\n%s", p.Log())
		}
		return nil
	})
	got := measure(s.bytes.Load, 3*time.Second, 6*time.Second)
	link := 100 * goodputPerRate
	t.Logf("framework with 20 Mbit/s alone on a link of 100: goodput %.2f Mbit/s (the link: %.2f)", got, link)
	if got < 0.9*link || got > 1.05*link {
		t.Errorf("goodput %.2f Mbit/s, want at least 90 %% of the link's %.2f: idle bandwidth is not borrowed", got, link)
	}
}

func agentGetBody(t *testing.T, addr, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := cluster.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listenIn listens on a TCP port inside the network namespace at nsPath
// (a listening socket stays in the namespace it was made in). The thread
// that entered the namespace is never given back to the scheduler: it ends
// with its goroutine.
func listenIn(t *testing.T, nsPath string) net.Listener {
	t.Helper()
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.GetFromPath(nsPath)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			ch <- result{nil, err}
			return
		}
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		ch <- result{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen in %s: %v", nsPath, r.err)
	}
	t.Cleanup(func() { r.ln.Close() })
	return r.ln
}

// source sends zeros to every connection to it as fast as they take them
// and counts what the kernel accepted. Its send buffer is small, so what
// is accepted follows what is delivered within a few milliseconds' worth.
type source struct {
	ln    net.Listener
	bytes atomic.Uint64
}

func newSource(t *testing.T, ln net.Listener) *source {
	s := &source{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetWriteBuffer(32 << 10)
			go func() {
				defer c.Close()
				buf := make([]byte, 16<<10)
				for {
					n, err := c.Write(buf)
					s.bytes.Add(uint64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

// measure returns the Mbit/s count grew by over window, after warm-up.
func measure(count func() uint64, warmUp, window time.Duration) float64 {
	time.Sleep(warmUp)
	before, start := count(), time.Now()
	time.Sleep(window)
	return float64(count()-before) * 8 / time.Since(start).Seconds() / 1e6
}

// TestTaskNetworkLimitsBothWays: tasks that join the agent's network
// (cairn run --networks=cairn) get their own namespace, shaped at their
// network_bandwidth in both directions: a task of 30 Mbit/s sending to the
// gateway and another receiving from it each get 30 Mbit/s of goodput
// after headers. Their status names their IP; their statistics both limits.
func TestTaskNetworkLimitsBothWays(t *testing.T) {
	e := newEnv(t, 1)
	n := e.c.Node(0)
	e.startMaster(0)
	agent := e.startAgent("agent", 0, n.Addr(5050),
		"--isolation=cgroups/cpu,cgroups/mem,cgroups/pids,network/bandwidth",
		"--egress_interface=eth0", "--resources=network_bandwidth:100")
	e.waitAgents(0, 1)

	gateway := "10.201.0.1" // the first address of the default --network_cidr
	sinkLn, sourceLn := listenIn(t, n.Netns), listenIn(t, n.Netns)
	var received atomic.Uint64
	go func() {
		for {
			c, err := sinkLn.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(countWriter{&received}, c)
			}()
		}
	}()
	src := newSource(t, sourceLn)
	port := func(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

	const limit = 30.0
	runs := map[string]string{
		"send":    fmt.Sprintf("exec cat /dev/zero > /dev/tcp/%s/%d", gateway, port(sinkLn)),
		"receive": fmt.Sprintf("exec cat < /dev/tcp/%s/%d > /dev/null", gateway, port(sourceLn)),
	}
	procs := map[string]*cluster.Proc{}
	for name, script := range runs {
		p := n.Start("run-"+name, []string{e.bin, "run", "--master=" + n.Addr(5050), "--cpus=0.2", "--mem=64",
			fmt.Sprintf("--network_bandwidth=%g", limit), "--networks=cairn", "--name=" + name, "--framework_name=" + name,
			"--", "bash", "-c", script}, nil)
		procs[name] = p
		t.Cleanup(func() { _ = p.Kill(syscall.SIGTERM) })
	}
	cluster.Eventually(t, startTimeout, func() error {
		if received.Load() == 0 || src.bytes.Load() == 0 {
			return fmt.Errorf("no traffic yet (sent %d, received %d)\n%s", src.bytes.Load(), received.Load(), agent.proc.Log())
		}
		return nil
	})
	want := limit * goodputPerRate
	var egress, ingress float64
	done := make(chan struct{})
	go func() {
		defer close(done)
		ingress = measure(src.bytes.Load, 3*time.Second, 6*time.Second)
	}()
	egress = measure(received.Load, 3*time.Second, 6*time.Second)
	<-done
	for _, m := range []struct {
		what string
		got  float64
	}{{"egress (task sends)", egress}, {"ingress (task receives)", ingress}} {
		t.Logf("task of %g Mbit/s in its own namespace, %s: goodput %.2f Mbit/s (expected %.2f, %+.1f %%)", limit, m.what, m.got, want, (m.got/want-1)*100)
		if m.got < want*0.95 || m.got > want*1.05 {
			t.Errorf("%s: goodput %.2f Mbit/s, want %.2f ± 5 %%", m.what, m.got, want)
		}
	}
	for name, p := range procs {
		if !strings.Contains(p.Log(), "has IP 10.201.") {
			t.Errorf("cairn run %s did not print the task's IP on network cairn:\n%s", name, p.Log())
		}
	}
	stats := agentGetBody(t, n.Addr(5051), "/monitor/statistics")
	// Each task holds a TCP connection (its executor's to the agent count
	// too: they share the namespace), whose eth0 counters are its device's.
	for _, want := range []string{`"net_tx_rate_limit":3750000`, `"net_rx_rate_limit":3750000`, `{"id":"veth_rx"`, `{"id":"veth_tx"`,
		`"net_tcp_active_connections":`, `"net_tcp_rtt_microsecs_p50":`, `"net_rx_errors":`, `"net_tx_dropped":`} {
		if !strings.Contains(stats, want) {
			t.Errorf("/monitor/statistics lacks %s:\n%s", want, stats)
		}
	}
}

type countWriter struct{ n *atomic.Uint64 }

func (w countWriter) Write(b []byte) (int, error) { w.n.Add(uint64(len(b))); return len(b), nil }
