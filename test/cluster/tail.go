package cluster

import (
	"strconv"
	"strings"
)

// lastLines returns the last n lines of s, saying how many it left out.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "(empty)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return "[... " + strconv.Itoa(len(lines)-n) + " earlier lines]\n" + strings.Join(lines[len(lines)-n:], "\n")
}
