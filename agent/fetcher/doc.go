// Package fetcher puts a task's or executor's CommandInfo.uris into its
// sandbox before the container starts, as the Mesos fetcher does: http(s)
// and local file URIs (absolute paths or file://), archives extracted when
// `extract` is set (the default), `executable` files made executable,
// `output_file` names honoured, a size limit and a timeout.
//
// Confinement. Everything is written through an os.Root opened on the
// sandbox, so no write can leave it: output_file must be a local path,
// archive entries naming absolute paths or climbing out with ".." are
// refused (zip-slip), symlinks in archives may only point inside the
// sandbox, and a symlink already in the sandbox is never followed out of it.
//
// Supported archives: .tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .zip, and a plain
// .gz (decompressed beside itself). xz (.tar.xz/.txz) is refused with an
// error: the Go standard library has no xz decompressor. The `cache` field
// is ignored (every fetch downloads).
//
// I/O and threading. Fetch does blocking network and disk I/O on the
// caller's goroutine and honours its context (plus Config.Timeout). A
// Fetcher holds no state between calls and is safe for concurrent use on
// different sandboxes. The first URI that fails stops the fetch; the error
// is an *Error naming that URI, which the agent reports as TASK_FAILED with
// REASON_CONTAINER_LAUNCH_FAILED.
package fetcher
