package resources

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Fixed is a non-negative scalar quantity in thousandths: Mesos keeps three
// decimals for scalars, and fixed point keeps sums exact.
type Fixed int64

// maxFixed keeps v*1000 inside int64 with room for a few additions; no real
// resource comes near it (9e12 cpus).
const maxFixed = Fixed(math.MaxInt64 / 1024)

var (
	errNegative  = errors.New("negative value")
	errNotFinite = errors.New("value is not finite")
	errTooLarge  = errors.New("value too large")
	errTooSmall  = errors.New("non-zero value below 0.001")
)

// FixedFromFloat converts v to thousandths, rounding half away from zero as
// Mesos does. It rejects NaN, infinities, negative values, values that do not
// fit, and non-zero values that would round to zero (Mesos rejects those too,
// since they would silently vanish).
func FixedFromFloat(v float64) (Fixed, error) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, errNotFinite
	case v < 0:
		return 0, errNegative
	case v > float64(maxFixed)/1000:
		return 0, errTooLarge
	}
	f := Fixed(math.Round(v * 1000))
	if f == 0 && v != 0 {
		return 0, errTooSmall
	}
	return f, nil
}

// MustFixed is FixedFromFloat for constants known to be valid; it panics
// otherwise.
func MustFixed(v float64) Fixed {
	f, err := FixedFromFloat(v)
	if err != nil {
		panic(fmt.Sprintf("resources.MustFixed(%v): %v", v, err))
	}
	return f
}

// Float returns the value as a float64 (exact for any realistic quantity).
func (f Fixed) Float() float64 { return float64(f) / 1000 }

// String formats exactly, with no trailing zeros: 4, 0.5, 0.001.
func (f Fixed) String() string {
	whole := strconv.FormatInt(int64(f/1000), 10)
	frac := int64(f % 1000)
	if frac == 0 {
		return whole
	}
	s := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	return whole + "." + s
}

// addFixed saturates instead of wrapping: a sum that large is already
// meaningless, but it must never turn negative.
func addFixed(a, b Fixed) Fixed {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// subFixed never goes below zero: Subtract is defined as a floor at zero.
func subFixed(a, b Fixed) Fixed {
	if b >= a {
		return 0
	}
	return a - b
}
