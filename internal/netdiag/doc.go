// Package netdiag reads what the kernel knows about the TCP sockets and the
// network devices of a network namespace: per socket its state, cgroup v2 id
// and smoothed round-trip time (sock_diag, NETLINK_SOCK_DIAG inet_diag dumps
// of IPv4 and IPv6 TCP sockets with INET_DIAG_INFO and INET_DIAG_CGROUP_ID,
// Linux ≥ 5.7), and per device its counters (/proc/<tid>/net/dev).
//
// The parsing (DumpRequest, ParseDump, ParseNetDev) is pure and works on
// bytes; Sockets and InNetns do the I/O.
//
// I/O and threading: Sockets opens a netlink socket in the caller's network
// namespace, sends two dump requests and reads the replies, then closes it.
// InNetns does the same, and reads the device counters, on a goroutine of
// its own locked to an OS thread that joins the namespace with setns(2) and
// returns to the original namespace before it is unlocked (a thread that
// cannot return is left locked, and Go ends it with the goroutine). Both
// need CAP_NET_ADMIN for another namespace (setns), nothing more for the
// own one. No state is kept between calls; all functions are safe for
// concurrent use.
package netdiag
