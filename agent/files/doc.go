// Package files serves an agent's sandboxes over Mesos's /files endpoints:
// /files/browse, /files/read and /files/download.
//
// Paths are either absolute paths inside the agent's sandbox root
// (<work_dir>/slaves, as Mesos reports executor directories) or Mesos's
// virtual sandbox paths `/frameworks/<fw>/executors/<ex>/runs/<run>/…`,
// resolved under the current agent's directory. Every access goes through an
// os.Root, so `..`, absolute symlinks and symlinks that leave the root are
// refused by the kernel-facing layer itself, not by string checks alone.
//
// I/O: reads files below the root. Handlers are safe for concurrent use.
package files
