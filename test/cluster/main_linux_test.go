package cluster

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a small program instead of running
// tests, so the harness's own tests need no tools beyond the test binary.
const helperEnv = "CAIRN_CLUSTER_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper returns argv and env that run the test binary as helper program args.
func helper(t testing.TB, args ...string) ([]string, []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{exe}, args...), []string{helperEnv + "=1"}
}

// helperMain runs one helper program:
//
//	echo ADDR        serve TCP on ADDR, echo each line back; prints "listening"
//	dial ADDR MSG    send MSG to an echo server, exit 0 if it comes back
//	stubborn         ignore SIGTERM, print "ready", sleep
//	crash            build a cluster, print its ID and an orphan's pid, SIGKILL itself on input
func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no command")
		return 2
	}
	switch args[0] {
	case "echo":
		return echoServer(args[1])
	case "dial":
		return dialEcho(args[1], args[2])
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
		return 0
	case "crash":
		return crash()
	}
	fmt.Fprintf(os.Stderr, "helper: unknown command %q\n", args[0])
	return 2
}

func echoServer(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening")
	for {
		conn, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			defer conn.Close()
			r := bufio.NewScanner(conn)
			for r.Scan() {
				fmt.Fprintln(conn, r.Text())
			}
		}()
	}
}

// dialEcho bounds connecting and the round trip by a timeout: across a cut
// link SYNs vanish without an answer and the dial would otherwise hang.
func dialEcho(addr, msg string) int {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintln(conn, msg)
	r := bufio.NewScanner(conn)
	if !r.Scan() || r.Text() != msg {
		fmt.Fprintf(os.Stderr, "echo of %q: got %q, err %v\n", msg, r.Text(), r.Err())
		return 1
	}
	fmt.Println("ok")
	return 0
}
