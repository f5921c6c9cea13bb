package domain

import (
	"encoding/json"
	"unicode/utf8"
)

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
