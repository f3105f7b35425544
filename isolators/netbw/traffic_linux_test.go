package netbw

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/bpf"
)

// Goodput and HTB: HTB charges a class the L2 length of every segment (a
// GSO packet counts its headers once per segment). On a veth of MTU 1500
// with TCP timestamps, a full segment carries 1448 bytes of payload in a
// 1514-byte frame (14 Ethernet + 20 IP + 32 TCP), so a class of rate R
// gives TCP goodput R × 1448/1514 ≈ 0.956 R. ACKs travel the other way and
// are not charged to the class.
const payloadPerFrame = 1448.0 / 1514.0

// goodput is what the receiver should see from a class of rateMbps.
func goodput(rateMbps float64) float64 { return rateMbps * payloadPerFrame }

// cgMu serialises moves of the test process between cgroups.
var cgMu sync.Mutex

// inCgroup runs fn with the whole test process in cg, then moves it back.
// A socket belongs to the cgroup its creator was in when it was created
// (the kernel's sk_cgrp_data), so sockets fn opens are cg's for life: one
// process can play several tasks of several frameworks.
func inCgroup(t testing.TB, cg cgroup, fn func()) {
	t.Helper()
	cgMu.Lock()
	defer cgMu.Unlock()
	root, err := bpf.UnifiedRoot()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := bpf.ProcessCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(cg.path, "cgroup.procs"), pid, 0); err != nil {
		t.Fatalf("enter cgroup: %v", err)
	}
	defer func() {
		if err := os.WriteFile(filepath.Join(root, rel, "cgroup.procs"), pid, 0); err != nil {
			t.Fatalf("leave cgroup: %v", err)
		}
	}()
	fn()
}

// sink counts the bytes received on one port: one framework's goodput.
type sink struct {
	l net.Listener
	n atomic.Uint64
}

func newSink(t testing.TB, ns, addr string) *sink {
	t.Helper()
	s := &sink{}
	inNetns(t, ns, func() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		s.l = l
	})
	t.Cleanup(func() { s.l.Close() })
	go func() {
		for {
			c, err := s.l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 256<<10)
				for {
					n, err := c.Read(buf)
					s.n.Add(uint64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

// sender writes as fast as TCP lets it over flows connections, made from
// cgroup cg in namespace ns, until the test ends; paused, it writes nothing
// and its connections go idle.
type sender struct {
	conns  []net.Conn
	paused atomic.Bool
	closed atomic.Bool
	wg     sync.WaitGroup
}

func send(t testing.TB, cg cgroup, ns, to string, flows int) *sender {
	t.Helper()
	s := &sender{}
	inCgroup(t, cg, func() {
		inNetns(t, ns, func() {
			for range flows {
				c, err := net.Dial("tcp", to)
				if err != nil {
					t.Fatal(err)
				}
				// A small send buffer: a paused sender goes idle in
				// milliseconds, not after draining megabytes.
				_ = c.(*net.TCPConn).SetWriteBuffer(256 << 10)
				s.conns = append(s.conns, c)
			}
		})
	})
	for _, c := range s.conns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				if s.closed.Load() {
					return
				}
				if s.paused.Load() {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
	t.Cleanup(s.stop)
	return s
}

func (s *sender) stop() {
	s.closed.Store(true)
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
}

// rates samples the sinks every period, count times, and returns each
// sample's goodput per sink in Mbit/s, with the sample's end time.
func rates(sinks []*sink, period time.Duration, count int) (at []time.Time, mbps [][]float64) {
	prev := make([]uint64, len(sinks))
	for j, s := range sinks {
		prev[j] = s.n.Load()
	}
	last := time.Now()
	for range count {
		time.Sleep(time.Until(last.Add(period)))
		now := time.Now()
		row := make([]float64, len(sinks))
		for j, s := range sinks {
			n := s.n.Load()
			row[j] = float64(n-prev[j]) * 8 / now.Sub(last).Seconds() / 1e6
			prev[j] = n
		}
		at, mbps, last = append(at, now), append(mbps, row), now
	}
	return at, mbps
}

// average is each sink's goodput in Mbit/s over d.
func average(sinks []*sink, d time.Duration) []float64 {
	_, m := rates(sinks, d, 1)
	return m[0]
}

// jain is Jain's fairness index of xs: 1 when all are equal, 1/n when one
// has everything.
func jain(xs []float64) float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
		sq += x * x
	}
	if sq == 0 {
		return 0
	}
	return sum * sum / (float64(len(xs)) * sq)
}

func within(got, want, frac float64) bool {
	d := got - want
	return d <= frac*want && -d <= frac*want
}
