package systemd

import "os"

func notifySocket() string { return os.Getenv("NOTIFY_SOCKET") }

// UnderSystemd reports whether systemd started this process as (part of) a
// unit: systemd sets INVOCATION_ID for every service it runs (since v232).
func UnderSystemd() bool { return os.Getenv("INVOCATION_ID") != "" }
