package flags

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// mesosUnits are the unit suffixes Mesos's Duration parser accepts, longest
// suffix first where one is a suffix of another ("ms" before "s" is not an
// issue: Mesos has no bare "s").
var mesosUnits = []struct {
	suffix string
	unit   time.Duration
}{
	{"weeks", 7 * 24 * time.Hour},
	{"days", 24 * time.Hour},
	{"hrs", time.Hour},
	{"mins", time.Minute},
	{"secs", time.Second},
	{"ms", time.Millisecond},
	{"us", time.Microsecond},
	{"ns", time.Nanosecond},
}

// ParseDuration accepts Mesos durations ("5secs", "1.5mins", "100ms") and Go
// durations ("1m30s"). Negative durations are rejected: no Cairn flag means
// anything by them.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for _, u := range mesosUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		if f < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		d := f * float64(u.unit)
		if d > math.MaxInt64 {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(d), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 5secs, 100ms, 1mins)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// FormatDuration prints d the way Mesos does: the largest unit that keeps the
// value readable ("1secs", "15mins", "100ms").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0ns"
	}
	for _, u := range mesosUnits {
		if d >= u.unit {
			v := float64(d) / float64(u.unit)
			return strconv.FormatFloat(v, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return FormatDuration(*v.d)
}

func (v durationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}
