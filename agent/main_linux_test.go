package agent

import (
	"os"
	"testing"

	"github.com/cairnhq/cairn/containerizer"
)

// TestMain lets the test binary serve as the container init for the kernel
// tests: libcontainer re-executes it with "init" as the first argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		containerizer.Init()
	}
	os.Exit(m.Run())
}
