package api

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a strict RFC 8259 tokenizer over a byte slice. It never
// recurses on its own; nesting is driven (and bounded) by the decoder.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipWS()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *scanner) syntaxError(what string) error {
	if s.pos >= len(s.data) {
		return fmt.Errorf("invalid JSON: unexpected end of input, %s", what)
	}
	return fmt.Errorf("invalid JSON at offset %d: %s", s.pos, what)
}

// expect consumes byte c after optional whitespace.
func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.syntaxError("expected " + strconv.QuoteRune(rune(c)))
	}
	s.pos++
	return nil
}

// kindName names the JSON type of the value starting at the next byte,
// for "expected X, got Y" messages.
func (s *scanner) kindName() string {
	switch c := s.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid value"
}

// literal consumes the keyword lit (true, false, null).
func (s *scanner) literal(lit string) bool {
	s.skipWS()
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.skipWS()
	n := numberLen(s.data[s.pos:])
	if n == 0 {
		return nil, s.syntaxError("malformed number")
	}
	b := s.data[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

// numberLen returns the length of the JSON number at the start of b, or 0.
func numberLen(b []byte) int {
	i := 0
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}

// isNumber reports whether all of b is one JSON number.
func isNumber(b []byte) bool {
	return len(b) > 0 && numberLen(b) == len(b)
}

// str consumes a JSON string and returns its decoded bytes. Without
// escapes or non-ASCII the result aliases the input. Lone surrogates and
// invalid UTF-8 become U+FFFD.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.syntaxError("expected string")
	}
	s.pos++
	start := s.pos
	for i := s.pos; i < len(s.data); i++ {
		c := s.data[i]
		if c == '"' {
			s.pos = i + 1
			return s.data[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return s.slowStr(start)
		}
	}
	s.pos = len(s.data)
	return nil, s.syntaxError("unterminated string")
}

func (s *scanner) slowStr(start int) ([]byte, error) {
	out := make([]byte, 0, 16)
	i := start
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.syntaxError("control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.data[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
		case c != '\\':
			out = append(out, c)
			i++
		default:
			if i+1 >= len(s.data) {
				s.pos = len(s.data)
				return nil, s.syntaxError("unterminated string")
			}
			esc := s.data[i+1]
			i += 2
			switch esc {
			case '"', '\\', '/':
				out = append(out, esc)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s.data[i:])
				if !ok {
					s.pos = i
					return nil, s.syntaxError("malformed \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+6 <= len(s.data) && s.data[i] == '\\' && s.data[i+1] == 'u' {
						r2, ok = hex4(s.data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				s.pos = i - 1
				return nil, s.syntaxError("invalid escape")
			}
		}
	}
	s.pos = len(s.data)
	return nil, s.syntaxError("unterminated string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip consumes one value of any type; depth counts enclosing containers.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch s.peek() {
	case '"':
		_, err := s.str()
		return err
	case '{':
		s.pos++
		if s.peek() == '}' {
			s.pos++
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if done, err := s.next('}'); done || err != nil {
				return err
			}
		}
	case '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if done, err := s.next(']'); done || err != nil {
				return err
			}
		}
	case 't':
		return s.keyword("true")
	case 'f':
		return s.keyword("false")
	case 'n':
		return s.keyword("null")
	default:
		_, err := s.number()
		return err
	}
}

func (s *scanner) keyword(lit string) error {
	if !s.literal(lit) {
		return s.syntaxError("invalid literal")
	}
	return nil
}

// next consumes the separator after a member or element: ',' (more to
// come) or the closing byte (done).
func (s *scanner) next(closing byte) (done bool, err error) {
	switch s.peek() {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, s.syntaxError("expected ',' or " + strconv.QuoteRune(rune(closing)))
}
