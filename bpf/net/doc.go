// Package net meters network traffic per cgroup with eBPF: bytes and packets
// received and sent by the sockets of each cgroup, in every network
// namespace, so tasks on the host network are told apart too.
//
// The C side (net.c) is a pair of cgroup_skb programs (ingress, egress)
// attached once at the root of the cgroup v2 hierarchy; they see every packet
// of every full socket and charge it to the cgroup the socket was created in
// (cgroup v2 id, see bpf.CgroupID). They never drop: both return "allow".
//
// What is counted: bytes are the L3 lengths (IP header and up) of the
// segments on the wire — a GSO super-packet counts its IP+TCP/UDP headers once
// per segment, as the wire does; packets are wire segments (gso_segs, at
// least 1). Link-layer framing (Ethernet header, FCS) is not included; nor is
// traffic without a full socket (ARP, ICMP errors and RSTs the kernel sends
// on its own, forwarded packets), which is nobody's task's.
//
// I/O and threading: Open loads and attaches the programs (needs root or
// CAP_BPF+CAP_NET_ADMIN); Read, ReadAll and Forget are map syscalls. A Meter
// is safe for concurrent use and starts no goroutines; Close detaches and is
// idempotent.
package net
