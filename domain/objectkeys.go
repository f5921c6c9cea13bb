package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"unicode/utf8"
)

// KeyError is returned by CheckObjectKeys for the first key at fault: one
// the caller does not know, or one that appears again (Repeated).
type KeyError struct {
	Key      string
	Repeated bool
}

func (e *KeyError) Error() string {
	if e.Repeated {
		return "key " + e.Key + " appears more than once"
	}
	return "key " + e.Key + " is not a field"
}

// ErrTrailing is returned by CheckObjectKeys when the object is followed
// by more than white space.
var ErrTrailing = errors.New("domain: more than one JSON value")

// CheckObjectKeys makes encoding/json's lenient habits strict, for the API's
// bodies and the domain's event data alike: encoding/json matches keys
// without regard to case and lets a repeated key silently win, and neither
// belongs in a record that can never be corrected in place. obj (trimmed,
// starting with '{') must be exactly one JSON object whose keys are each
// known, spelt exactly, and appear once. The first problem in reading order
// is returned: a *KeyError, ErrTrailing, or encoding/json's error for
// malformed JSON (a *json.SyntaxError, or io.ErrUnexpectedEOF when obj ends
// too soon). Keys inside nested values are not checked.
//
// It is the one strict-key checker: valid JSON, the common case, is walked
// by ObjectKeys without encoding/json's tokenizer, which allocates for every
// token; anything else is read token by token, so that a key at fault
// before a syntax error is the one named. FuzzCheckObjectKeys holds the two
// readings to the same answers.
func CheckObjectKeys(obj []byte, known func(key string) bool) error {
	if !json.Valid(obj) {
		return checkObjectKeysTokens(obj, known)
	}
	var buf [16]string
	seen := buf[:0]
	return ObjectKeys(obj, func(key string) error {
		switch {
		case !known(key):
			return &KeyError{Key: key}
		case slices.Contains(seen, key):
			return &KeyError{Key: key, Repeated: true}
		}
		seen = append(seen, key)
		return nil
	})
}

// checkObjectKeysTokens is CheckObjectKeys read token by token, for input
// that is not valid JSON.
func checkObjectKeysTokens(obj []byte, known func(key string) bool) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case !known(key):
			return &KeyError{Key: key}
		case seen[key]:
			return &KeyError{Key: key, Repeated: true}
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailing
	}
	return nil
}

// ObjectKeys calls fn with each key of obj, in order, decoded as
// encoding/json decodes it, and stops at fn's first error. obj must be one
// valid JSON object (json.Valid holds and it starts with '{'): the walk
// relies on that and checks nothing. It is how the strict decoders check a
// valid body's keys without encoding/json's tokenizer, which allocates for
// every token.
func ObjectKeys(obj []byte, fn func(key string) error) error {
	i := skipSpace(obj, 1) // past '{'
	for i < len(obj) && obj[i] == '"' {
		end, escaped := stringEnd(obj, i)
		var key string
		if escaped {
			_ = json.Unmarshal(obj[i:end], &key) // valid, so it decodes
		} else {
			key = string(obj[i+1 : end-1])
		}
		if err := fn(key); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1)  // past ':'
		i, _ = skipValue(obj, i) // codec_fast.go
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

// stringEnd returns the index just past the string starting at b[i] (a
// quote) and whether it holds an escape or a non-ASCII byte.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			return j + 1, escaped
		case c >= utf8.RuneSelf:
			escaped = true // decoded by encoding/json, which replaces invalid UTF-8
		}
	}
	return len(b), escaped
}
