package bpftest

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// helpers run in re-executed test binaries (see Main), each in its own
// process and cgroup.
var helpers = map[string]func(args []string) error{
	"spin": spin,
	"send": send,
	"sink": sink,
	"hold": hold,
	"hog":  hog,
	"pong": pong,
}

// spin -cpu N -for D [-hold]: burns CPU on one thread, pinned to CPU N (if
// N ≥ 0), until the whole process has used D (start-up and the runtime's own
// threads included, so that D is what the process costs), printing
// "spinning" first and "spun <ns>" (the process's CPU time) at the end; with
// -hold it then waits for stdin to close.
func spin(args []string) error {
	fs := flag.NewFlagSet("spin", flag.ContinueOnError)
	cpu := fs.Int("cpu", -1, "CPU to pin to")
	d := fs.Duration("for", 2*time.Second, "CPU time to burn")
	wait := fs.Bool("hold", false, "wait for stdin to close before exiting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.LockOSThread()
	if *cpu >= 0 {
		var set unix.CPUSet
		set.Set(*cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("pin to cpu %d: %w", *cpu, err)
		}
	}
	fmt.Println("spinning")
	var x uint64
	for {
		for i := 0; i < 100000; i++ {
			x += uint64(i) ^ x>>3
		}
		if used := processCPU(); used >= *d {
			fmt.Println("spun", int64(used), x&1)
			if *wait {
				_, _ = io.Copy(io.Discard, os.Stdin)
			}
			return nil
		}
	}
}

func processCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// TCPTruth is what the kernel's TCP_INFO says one socket moved, the network
// meter's ground truth.
type TCPTruth struct {
	BytesSent     uint64 `json:"bytes_sent"` // payload, retransmissions included
	BytesReceived uint64 `json:"bytes_received"`
	SegsOut       uint32 `json:"segs_out"` // wire segments, pure ACKs included
	SegsIn        uint32 `json:"segs_in"`
	Retrans       uint64 `json:"bytes_retrans"`
}

func tcpTruth(c *net.TCPConn) (TCPTruth, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return TCPTruth{}, err
	}
	var info *unix.TCPInfo
	var serr error
	err = raw.Control(func(fd uintptr) { info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if err = errors.Join(err, serr); err != nil {
		return TCPTruth{}, fmt.Errorf("TCP_INFO: %w", err)
	}
	return TCPTruth{
		BytesSent: info.Bytes_sent, BytesReceived: info.Bytes_received,
		SegsOut: info.Segs_out, SegsIn: info.Segs_in, Retrans: info.Bytes_retrans,
	}, nil
}

// send -to ADDR -bytes N [-netns PATH]: connects, sends N bytes, half-closes,
// waits for the peer to close, and prints "truth <json TCPTruth>".
func send(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	to := fs.String("to", "", "address to connect to")
	n := fs.Int64("bytes", 0, "bytes to send")
	ns := fs.String("netns", "", "network namespace to connect from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := enterNetns(*ns); err != nil {
		return err
	}
	c, err := net.Dial("tcp", *to)
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(tc, io.LimitReader(zeros{}, *n), buf); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := tc.CloseWrite(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return err
	}
	truth, err := tcpTruth(tc)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(truth)
	fmt.Printf("truth %s\n", b)
	return tc.Close()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// sink -listen ADDR -conns N [-netns PATH]: accepts N connections, reads
// each to EOF, and prints "truth <json TCPTruth>" per connection before
// closing it. It prints "listening" once it accepts.
func sink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	addr := fs.String("listen", "", "address to listen on")
	conns := fs.Int("conns", 1, "connections to serve")
	ns := fs.String("netns", "", "network namespace to listen in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := enterNetns(*ns); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := 0; i < *conns; i++ {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tc := c.(*net.TCPConn)
			_, err := io.Copy(io.Discard, tc)
			truth, terr := tcpTruth(tc)
			mu.Lock()
			defer mu.Unlock()
			if err = errors.Join(err, terr); err != nil {
				errs = append(errs, err)
				return
			}
			b, _ := json.Marshal(truth)
			fmt.Printf("truth %s\n", b)
			errs = append(errs, tc.Close())
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// enterNetns moves the calling thread into the named network namespace;
// sockets it creates from then on live there. The thread stays locked.
func enterNetns(path string) error {
	if path == "" {
		return nil
	}
	runtime.LockOSThread()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter netns: %w", err)
	}
	return nil
}

// hold -bytes N: prints "baseline <VmRSS in bytes>", maps N bytes of
// anonymous memory, writes to every page, prints "holding", and keeps it
// until stdin closes.
func hold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	n := fs.Int("bytes", 0, "bytes to hold")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base, err := selfRSS()
	if err != nil {
		return err
	}
	fmt.Println("baseline", base)
	mem, err := unix.Mmap(-1, 0, *n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	page := os.Getpagesize()
	for i := 0; i < len(mem); i += page {
		mem[i] = 1
	}
	fmt.Println("holding")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return unix.Munmap(mem)
}

// hog: waits for a line on stdin, then maps and touches memory 1 MiB at a
// time, forever; it ends only when killed (by the OOM killer).
func hog([]string) error {
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	page := os.Getpagesize()
	for {
		mem, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return err
		}
		for i := 0; i < len(mem); i += page {
			mem[i] = 1
		}
	}
}

// pong -cpu N: pinned to CPU N, reads a byte from fd 3 and writes it back
// to fd 4, until EOF: the far end of the context-switch benchmark.
func pong(args []string) error {
	fs := flag.NewFlagSet("pong", flag.ContinueOnError)
	cpu := fs.Int("cpu", -1, "CPU to pin to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.LockOSThread()
	if *cpu >= 0 {
		var set unix.CPUSet
		set.Set(*cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return err
		}
	}
	var b [1]byte
	for {
		n, err := unix.Read(3, b[:])
		if n == 0 || err != nil {
			return err
		}
		if _, err := unix.Write(4, b[:]); err != nil {
			return err
		}
	}
}

func selfRSS() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}
