package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Prefix starts the ID of every cluster this package creates, and so the name
// of every kernel object it creates.
const Prefix = "cn-"

// stateDir holds one file per live cluster, written before any of its objects
// exist, so a crashed run can always be traced back to its leftovers.
const stateDir = "/run/cairn-test/cluster"

// state is what a cluster's state file records about its creator.
type state struct {
	Pid    int    `json:"pid"`
	Start  uint64 `json:"start"` // process start time in clock ticks; guards against pid reuse
	Subnet int    `json:"subnet"`
}

// lockState takes the lock that serializes sweeping, subnet choice and state
// file creation among all test processes on the machine. flock is released by
// the kernel if the holder dies, so a crash cannot leave it held.
func lockState() (unlock func(), err error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open state lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock state: %w", err)
	}
	return func() { f.Close() }, nil
}

func statePath(id string) string { return filepath.Join(stateDir, id+".json") }

func writeState(id string, s state) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.WriteFile(statePath(id), b, 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// readStates returns the state of every cluster whose ID starts with prefix.
// Unreadable files are returned with a zero state, which counts as dead.
func readStates(prefix string) (map[string]state, error) {
	entries, err := os.ReadDir(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list state dir: %w", err)
	}
	states := make(map[string]state)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !strings.HasPrefix(id, prefix) {
			continue
		}
		var s state
		if b, err := os.ReadFile(statePath(id)); err == nil {
			_ = json.Unmarshal(b, &s) // a torn file means a dead writer
		}
		states[id] = s
	}
	return states, nil
}

// self describes the calling process for its state file.
func self() (state, error) {
	pid := os.Getpid()
	start, err := startTime(pid)
	if err != nil {
		return state{}, err
	}
	return state{Pid: pid, Start: start}, nil
}

// alive reports whether the process that wrote s still runs.
func (s state) alive() bool {
	if s.Pid <= 0 {
		return false
	}
	start, err := startTime(s.Pid)
	return err == nil && start == s.Start
}

// startTime reads field 22 of /proc/PID/stat. Zombies count as gone.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process stat: %w", err)
	}
	// The command name (field 2) may hold spaces and parentheses: split after
	// the last ')'. What follows starts at field 3, the state.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("parse process stat: no command field")
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse process stat: %d fields", len(fields))
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// Sweep removes what earlier, crashed runs of this harness left behind: for
// every state file whose ID starts with prefix and whose creating process is
// dead, it kills the processes still inside that cluster's namespaces, deletes
// the namespaces and the root-side veth, and then the state file. Clusters of
// live processes are not touched, nor is anything without a state file. New
// calls Sweep(Prefix); calling it again is harmless.
func Sweep(prefix string) error {
	unlock, err := lockState()
	if err != nil {
		return err
	}
	defer unlock()
	return sweepLocked(prefix)
}

func sweepLocked(prefix string) error {
	states, err := readStates(prefix)
	if err != nil {
		return err
	}
	var errs []error
	for id, s := range states {
		if s.alive() {
			continue
		}
		if err := removeObjects(id); err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", id, err))
			continue // keep the state file so a later sweep retries
		}
		if err := os.Remove(statePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove state of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// removeObjects deletes every kernel object named after cluster id.
func removeObjects(id string) error {
	var errs []error
	names, err := listNetns()
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range names {
		if strings.HasPrefix(ns, id+"-") {
			errs = append(errs, deleteNetns(ns))
		}
	}
	errs = append(errs, deleteLink(id))
	return errors.Join(errs...)
}
