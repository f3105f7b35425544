package resources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Parse reads resources in the Mesos --resources syntax. Two forms exist:
//
//	cpus:4;mem:2048;disk:10000;ports:[31000-32000,40000-40100];zones:{a,b};cpus(eng):2
//	[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}, ...]
//
// In the text form a value is a scalar, a list of inclusive ranges in
// brackets, or a set in braces; "(role)" after the name reserves the
// resource statically for that role. Entries with the same name and role add
// up, as in Mesos; but a port range or set item given twice is an error, as is
// one name with two types. The empty string is the empty collection.
func Parse(s string) (Resources, error) {
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "[") {
		return parseJSON(trimmed)
	}
	return parseText(trimmed)
}

// MustParse is Parse for constants and tests; it panics on a bad input.
func MustParse(s string) Resources {
	rs, err := Parse(s)
	if err != nil {
		panic("resources.MustParse: " + err.Error())
	}
	return rs
}

func parseText(s string) (Resources, error) {
	var items []Resource
	for token := range strings.SplitSeq(s, ";") {
		token = strings.TrimSpace(token)
		if token == "" {
			continue
		}
		r, err := parseToken(token)
		if err != nil {
			return Resources{}, fmt.Errorf("parse resources: %q: %w", token, err)
		}
		items = append(items, r)
	}
	rs, err := combine(items)
	if err != nil {
		return Resources{}, fmt.Errorf("parse resources: %w", err)
	}
	return rs, nil
}

func parseToken(token string) (Resource, error) {
	key, value, ok := strings.Cut(token, ":")
	if !ok || strings.Contains(value, ":") {
		return Resource{}, fmt.Errorf("want exactly one ':' between name and value")
	}
	r := Resource{Role: Unreserved}
	key = strings.TrimSpace(key)
	if open := strings.IndexByte(key, '('); open >= 0 {
		if !strings.HasSuffix(key, ")") {
			return Resource{}, fmt.Errorf("mismatched parentheses")
		}
		r.Role = strings.TrimSpace(key[open+1 : len(key)-1])
		if role, ok := strings.CutSuffix(r.Role, dynamicSuffix); ok {
			r.Role, r.Dynamic = strings.TrimSpace(role), true
		}
		key = strings.TrimSpace(key[:open])
		if err := ValidateRole(r.Role); err != nil {
			return Resource{}, err
		}
	}
	r.Name = key
	if err := validateName(r.Name); err != nil {
		return Resource{}, err
	}
	if r.Dynamic && r.Role == Unreserved {
		return Resource{}, fmt.Errorf("role \"*\" cannot be reserved")
	}
	value = strings.TrimSpace(value)
	switch {
	case strings.HasPrefix(value, "["):
		if !strings.HasSuffix(value, "]") {
			return Resource{}, fmt.Errorf("ranges value %q lacks a closing ']'", value)
		}
		rs, err := parseRanges(value[1 : len(value)-1])
		if err != nil {
			return Resource{}, err
		}
		r.Type, r.Ranges = Ranges, rs
	case strings.HasPrefix(value, "{"):
		if !strings.HasSuffix(value, "}") {
			return Resource{}, fmt.Errorf("set value %q lacks a closing '}'", value)
		}
		r.Type, r.Set = Set, parseSet(value[1:len(value)-1])
	default:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return Resource{}, fmt.Errorf("scalar value %q is not a number", value)
		}
		f, err := FixedFromFloat(v)
		if err != nil {
			return Resource{}, fmt.Errorf("scalar value %q: %w", value, err)
		}
		r.Type, r.Scalar = Scalar, f
	}
	return r, r.Validate()
}

// parseRanges reads "31000-32000, 40000-40100". A lone number n means n-n.
func parseRanges(s string) ([]Range, error) {
	var out []Range
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isPair := strings.Cut(part, "-")
		if !isPair {
			hi = lo
		}
		b, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		e, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("range %q is not begin-end", part)
		}
		out = append(out, Range{Begin: b, End: e})
	}
	return out, nil
}

func parseSet(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for it := range strings.SplitSeq(s, ",") {
		out = append(out, strings.TrimSpace(it))
	}
	return out
}

// combine merges parsed entries by key. Ranges and set items are joined
// before validation so that an overlap between two tokens is caught, and a
// name seen with two types is refused (Mesos refuses it on the command line).
func combine(items []Resource) (Resources, error) {
	types := make(map[string]Type)
	type key struct {
		name, role string
		dynamic    bool
		typ        Type
	}
	merged := make(map[key]int)
	var raw []Resource
	for _, r := range items {
		if t, seen := types[r.Name]; seen && t != r.Type {
			return Resources{}, fmt.Errorf("%s given as both %v and %v", r.Name, t, r.Type)
		}
		types[r.Name] = r.Type
		k := key{r.Name, r.Role, r.Dynamic, r.Type}
		i, seen := merged[k]
		if !seen {
			merged[k] = len(raw)
			raw = append(raw, cloneResource(r))
			continue
		}
		raw[i].Scalar = addFixed(raw[i].Scalar, r.Scalar)
		raw[i].Ranges = append(raw[i].Ranges, r.Ranges...)
		raw[i].Set = append(raw[i].Set, r.Set...)
	}
	return New(raw...)
}

// jsonResource is the subset of Mesos's Resource JSON that --resources may
// carry. Unknown keys are refused rather than ignored: a "disk" or
// "revocable" key would change what the resource means.
type jsonResource struct {
	Name   *string `json:"name"`
	Type   *string `json:"type"`
	Scalar *struct {
		Value *float64 `json:"value"`
	} `json:"scalar"`
	Ranges *struct {
		Range []struct {
			Begin *uint64 `json:"begin"`
			End   *uint64 `json:"end"`
		} `json:"range"`
	} `json:"ranges"`
	Set *struct {
		Item []string `json:"item"`
	} `json:"set"`
	Role         *string `json:"role"`
	Reservations []struct {
		Type      *string         `json:"type"`
		Role      *string         `json:"role"`
		Principal *string         `json:"principal"`
		Labels    json.RawMessage `json:"labels"`
	} `json:"reservations"`
}

func parseJSON(s string) (Resources, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var in []jsonResource
	if err := dec.Decode(&in); err != nil {
		return Resources{}, fmt.Errorf("parse resources JSON: %w", err)
	}
	if dec.More() {
		return Resources{}, fmt.Errorf("parse resources JSON: trailing data after the array")
	}
	items := make([]Resource, 0, len(in))
	for i, j := range in {
		w := wireResource{name: j.Name, typ: j.Type, role: j.Role}
		if j.Scalar != nil {
			if j.Scalar.Value == nil {
				return Resources{}, fmt.Errorf("parse resources JSON: resource %d: scalar without value", i)
			}
			w.scalar = j.Scalar.Value
		}
		if j.Ranges != nil {
			w.hasRanges = true
			for _, r := range j.Ranges.Range {
				if r.Begin == nil || r.End == nil {
					return Resources{}, fmt.Errorf("parse resources JSON: resource %d: range needs begin and end", i)
				}
				w.ranges = append(w.ranges, Range{*r.Begin, *r.End})
			}
		}
		if j.Set != nil {
			w.hasSet, w.set = true, j.Set.Item
		}
		for _, rv := range j.Reservations {
			w.reservations = append(w.reservations, wireReservation{typ: rv.Type, role: rv.Role, labels: len(rv.Labels) > 0 && string(rv.Labels) != "null"})
		}
		r, err := w.resource()
		if err != nil {
			return Resources{}, fmt.Errorf("parse resources JSON: resource %d%s: %w", i, nameSuffix(j.Name), err)
		}
		items = append(items, r)
	}
	rs, err := combine(items)
	if err != nil {
		return Resources{}, fmt.Errorf("parse resources JSON: %w", err)
	}
	return rs, nil
}

func nameSuffix(name *string) string {
	if name == nil || *name == "" {
		return ""
	}
	return " (" + *name + ")"
}
