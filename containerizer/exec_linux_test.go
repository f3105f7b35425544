package containerizer

import (
	"fmt"
	osexec "os/exec"
	"strconv"
	"time"
)

func exec(name string, args ...string) error {
	out, err := osexec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, out)
	}
	return nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func nanotime() int64 { return time.Now().UnixNano() }
