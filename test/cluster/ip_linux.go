package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// netnsDir is where `ip netns add` bind-mounts named namespaces.
const netnsDir = "/run/netns"

// ip runs the ip command and returns its output, or an error that carries
// the command line and what ip printed.
func ip(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return out.String(), nil
}

// listNetns returns the names of all named network namespaces.
func listNetns() ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list netns: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// deleteNetns kills every process still inside the namespace, then removes
// it. Killing first matters: a namespace with members outlives its name, and
// with it the veth that ties it to the bridge. A missing namespace is no error.
func deleteNetns(name string) error {
	if _, err := os.Stat(netnsDir + "/" + name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	out, err := ip("netns", "pids", name)
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL) // it may have exited meanwhile
		}
	}
	_, err = ip("netns", "delete", name)
	return err
}

// deleteLink removes a link of the root namespace; a missing link is no error.
func deleteLink(name string) error {
	if _, err := os.Stat("/sys/class/net/" + name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_, err := ip("link", "delete", name)
	return err
}

// usedPrefixes collects every IPv4 address and prefix of at least /16 that
// appears in the root namespace's addresses and routes (all tables). Broader
// routes, such as the default route, cannot collide with a /24 of ours.
func usedPrefixes() ([]netip.Prefix, error) {
	var used []netip.Prefix
	for _, args := range [][]string{{"-4", "-o", "addr", "show"}, {"-4", "route", "show", "table", "all"}} {
		out, err := ip(args...)
		if err != nil {
			return nil, err
		}
		for _, tok := range strings.Fields(out) {
			if p, err := netip.ParsePrefix(tok); err == nil && p.Bits() >= 16 {
				used = append(used, p.Masked())
			} else if a, err := netip.ParseAddr(tok); err == nil && a.Is4() {
				used = append(used, netip.PrefixFrom(a, 32))
			}
		}
	}
	return used, nil
}
