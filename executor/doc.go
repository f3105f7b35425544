// Package executor is Cairn's command executor, the program behind
// `cairn executor`. The agent starts one per command task as the init process
// of the task's container; it speaks the Mesos v1 executor API to the agent
// (POST /api/v1/executor), starts the task's command, supervises it and
// reports its status updates reliably.
//
// I/O: HTTP to the agent (one long-lived SUBSCRIBE stream plus short calls),
// one child process (the task, in its own process group), signals to that
// process group, and wait4 to reap children. As the pid namespace's init it
// reaps orphans too.
//
// Threading: Run owns all state in one goroutine with one select loop. Two
// helpers feed it through channels: the stream reader (events, and the end of
// the stream) and the reaper (exits of child processes, woken by SIGCHLD). No
// state is shared outside those channels.
package executor
