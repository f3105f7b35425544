// Package isolatortest is the conformance suite every isolator runs: the
// contract of package isolators, checked the same way for each implementation.
//
// It does no I/O of its own; hooks of the isolator under test are called with
// a container id that exists nowhere, so they must treat it as unknown.
package isolatortest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
)

// Requests is a spread of ordinary and invalid requests Run feeds to Spec.
var Requests = []isolators.Request{
	{CPUs: 0.1, MemMB: 32},
	{CPUs: 1, MemMB: 128},
	{CPUs: 2.5, MemMB: 4096},
	{CPUs: 0.001, MemMB: 1},
	{},
	{CPUs: -1, MemMB: -1},
	{CPUs: math.NaN(), MemMB: math.NaN()},
	{CPUs: math.Inf(1), MemMB: math.Inf(1)},
	{CPUs: 1e12, MemMB: 1e18},
}

// Run checks that iso honours the isolator contract and reports every
// violation as a test error.
func Run(t *testing.T, iso isolators.Isolator) {
	t.Helper()
	for _, p := range Problems(context.Background(), iso) {
		t.Error(p)
	}
}

// Problems lists how iso breaks the contract: a Name that is not
// "family/name"; a Spec that is not deterministic, whose result depends on
// what Limits held before, or that changes Limits when it fails; a Cleanup
// (when iso is a Cleaner) that is not a no-op for an unknown container.
func Problems(ctx context.Context, iso isolators.Isolator) []string {
	var out []string
	family, name, ok := strings.Cut(iso.Name(), "/")
	if !ok || family == "" || name == "" || strings.ContainsAny(iso.Name(), ", \t") {
		out = append(out, fmt.Sprintf("Name() = %q, want family/name without commas or spaces", iso.Name()))
	}
	for _, req := range Requests {
		out = append(out, specProblems(iso, req)...)
	}
	if c, ok := iso.(isolators.Cleaner); ok {
		ctr := isolators.Container{ID: ids.ContainerID("isolatortest-unknown")}
		for i := range 2 {
			if err := c.Cleanup(ctx, ctr); err != nil {
				out = append(out, fmt.Sprintf("Cleanup #%d of an unknown container: %v", i+1, err))
			}
		}
	}
	return out
}

func specProblems(iso isolators.Isolator, req isolators.Request) []string {
	var out []string
	var a, b isolators.Limits
	errA := iso.Spec(req, &a)
	errB := iso.Spec(req, &b)
	if (errA == nil) != (errB == nil) || a != b {
		out = append(out, fmt.Sprintf("Spec(%+v) not deterministic: %+v (%v) then %+v (%v)", req, a, errA, b, errB))
	}
	s := sentinel()
	errS := iso.Spec(req, &s)
	if (errS == nil) != (errA == nil) {
		out = append(out, fmt.Sprintf("Spec(%+v) error depends on prior Limits: %v vs %v", req, errA, errS))
	}
	if errS != nil {
		if s != sentinel() {
			out = append(out, fmt.Sprintf("Spec(%+v) failed (%v) but changed Limits to %+v", req, errS, s))
		}
		return out
	}
	return append(out, ownedFieldProblems(req, a, s)...)
}

// sentinel fills every Limits field with a value no isolator would choose, to
// see which fields Spec writes.
func sentinel() isolators.Limits {
	var l isolators.Limits
	v := reflect.ValueOf(&l).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Int64:
			f.SetInt(-7777)
		case reflect.Uint64:
			f.SetUint(7777)
		}
	}
	return l
}

// ownedFieldProblems compares a Spec result from zero Limits (fresh) with one
// from sentinel Limits (over): a field Spec wrote must hold the same value in
// both, a field it left alone must still hold the sentinel, and no field may
// be cleared.
func ownedFieldProblems(req isolators.Request, fresh, over isolators.Limits) []string {
	var out []string
	fv, ov, sv := reflect.ValueOf(fresh), reflect.ValueOf(over), reflect.ValueOf(sentinel())
	for i := range fv.NumField() {
		name := fv.Type().Field(i).Name
		f, o := fv.Field(i).Interface(), ov.Field(i).Interface()
		if o == sv.Field(i).Interface() {
			if !fv.Field(i).IsZero() {
				out = append(out, fmt.Sprintf("Spec(%+v): %s set from zero Limits (%v) but not over prior Limits", req, name, f))
			}
			continue
		}
		if ov.Field(i).IsZero() {
			// Zero means "not set": an isolator with nothing to say leaves
			// the field alone rather than clearing another's value.
			out = append(out, fmt.Sprintf("Spec(%+v): cleared %s", req, name))
			continue
		}
		if f != o {
			out = append(out, fmt.Sprintf("Spec(%+v): %s = %v from zero Limits but %v over prior Limits", req, name, f, o))
		}
	}
	return out
}
