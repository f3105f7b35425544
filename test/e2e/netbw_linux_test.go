package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/test/cluster"
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
