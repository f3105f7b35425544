// Package executor is the program behind `cairn executor`: Cairn's command
// executor and its default executor. The agent starts one as the init
// process of an executor's container; it speaks the Mesos v1 executor API
// to the agent (POST /api/v1/executor), starts the tasks' commands,
// supervises them and reports their status updates reliably.
//
// As the command executor (the default) it runs the one task of a LAUNCH.
// As the default executor (ExecutorTypeEnv=default, for an ExecutorInfo of
// type DEFAULT) it runs the task groups of LAUNCH_GROUP events, each task
// as a child process in its own sandbox <sandbox>/tasks/<task_id>, kills
// the rest of a group when one of its tasks fails or is killed, and ends
// once no task is left.
//
// I/O: HTTP to the agent (one long-lived SUBSCRIBE stream plus short calls),
// child processes (the tasks, each in its own process group), signals to
// those process groups, and wait4 to reap children. As the pid namespace's
// init it reaps orphans too.
//
// Threading: Run owns all state in one goroutine with one select loop.
// Helpers feed it through channels: the stream reader (events, and the end
// of the stream), the reaper (exits of child processes, woken by SIGCHLD)
// and the kill-escalation timers. No state is shared outside those
// channels.
package executor
