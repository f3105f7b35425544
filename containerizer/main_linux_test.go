package containerizer

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the container init: libcontainer
// re-executes the running binary with "init" as its first argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		Init()
	}
	os.Exit(m.Run())
}
