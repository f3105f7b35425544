package api

import (
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// HTTPError is an error that already knows its HTTP status, so the HTTP
// shells classify codec and negotiation failures in one place.
type HTTPError struct {
	Status int
	Msg    string
}

func (e *HTTPError) Error() string { return e.Msg }

// StatusOf returns the status carried by an *HTTPError in err's chain,
// or fallback when there is none.
func StatusOf(err error, fallback int) int {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.Status
	}
	return fallback
}

// RequestCodec picks the codec for a request body from its Content-Type.
// Parameters such as "; charset=utf-8" are ignored. A missing header is a
// 400, anything but JSON or protobuf a 415.
func RequestCodec(contentType string) (Codec, error) {
	if strings.TrimSpace(contentType) == "" {
		return nil, &HTTPError{Status: http.StatusBadRequest, Msg: "expecting 'Content-Type' to be present"}
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch mt {
		case ContentTypeJSON:
			return JSON, nil
		case ContentTypeProtobuf:
			return Protobuf, nil
		}
	}
	return nil, &HTTPError{
		Status: http.StatusUnsupportedMediaType,
		Msg:    "expecting 'Content-Type' of " + ContentTypeJSON + " or " + ContentTypeProtobuf,
	}
}

// ResponseCodec picks the codec for a response from the Accept header.
// No header, */*, application/* and application/json select JSON;
// application/x-protobuf selects protobuf. In a list the highest q wins,
// then the more specific range (so "application/x-protobuf, */*" means
// protobuf), then JSON. q=0 excludes. Nothing acceptable is a 406.
func ResponseCodec(accept string) (Codec, error) {
	if strings.TrimSpace(accept) == "" {
		return JSON, nil
	}
	var ranges []mediaRange
	for part := range strings.SplitSeq(accept, ",") {
		if r, ok := parseMediaRange(part); ok {
			ranges = append(ranges, r)
		}
	}
	jq, js := bestMatch(ranges, "application", "json")
	pq, ps := bestMatch(ranges, "application", "x-protobuf")
	switch {
	case jq <= 0 && pq <= 0:
		return nil, &HTTPError{
			Status: http.StatusNotAcceptable,
			Msg:    "expecting 'Accept' to allow " + ContentTypeJSON + " or " + ContentTypeProtobuf,
		}
	case pq > jq, pq == jq && ps > js:
		return Protobuf, nil
	}
	return JSON, nil
}

type mediaRange struct {
	typ, sub string
	q        float64
}

func parseMediaRange(s string) (mediaRange, bool) {
	mt, params, err := mime.ParseMediaType(s)
	if err != nil {
		return mediaRange{}, false
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" || (typ == "*" && sub != "*") {
		return mediaRange{}, false
	}
	q := 1.0
	if v, ok := params["q"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return mediaRange{}, false
		}
		q = f
	}
	return mediaRange{typ: typ, sub: sub, q: q}, true
}

// bestMatch returns the q of the most specific range matching typ/sub
// (RFC 9110: the most specific reference has precedence) and that
// specificity: 2 exact, 1 type/*, 0 */*, -1 no match.
func bestMatch(ranges []mediaRange, typ, sub string) (q float64, specificity int) {
	specificity = -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*":
			s = 0
		}
		if s > specificity || (s == specificity && r.q > q) {
			q, specificity = r.q, s
		}
	}
	if specificity < 0 {
		return 0, -1
	}
	return q, specificity
}
