package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
)

// readJSON reads the request body, at most the server's limit, and decodes
// it strictly into dst: exactly one JSON object whose keys are dst's field
// names, spelt exactly, each once. encoding/json alone would match keys
// without regard to case and let a repeated key win silently.
func readJSON(r *http.Request, dst any, keys ...string) error {
	// Content-Type is not checked: curl -d labels JSON as a form, and the
	// body is held to strict JSON whatever its label says.
	body, err := readBody(r)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &tooLargeError{limit: mb.Limit}
		}
		return invalidf("", "the body could not be read")
	}
	return decodeStrict(body, dst, keys)
}

// readBody reads the whole body: into a buffer of its declared length when
// it has one (io.ReadAll would start at 512 bytes and grow).
func readBody(r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > maxPresized {
		return io.ReadAll(r.Body)
	}
	// One byte more than declared, so that the read finding the end has
	// room and the buffer never grows.
	b := make([]byte, 0, n+1)
	for {
		m, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = slices.Grow(b, 512)
		}
	}
}

// maxPresized bounds the buffer readBody makes from a declared length
// before a byte has arrived.
const maxPresized = 64 << 10

// decodeStrict is readJSON's decoder, on bytes. A body decodeFast reads is
// decoded there, in one pass; any other goes the long way, which finds and
// names what is wrong with it.
func decodeStrict(body []byte, dst any, keys []string) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return invalidf("", "the body is empty: a JSON object is required")
	}
	if trimmed[0] != '{' {
		return invalidf("", "the body must be a JSON object")
	}
	if fb, ok := dst.(fastBody); ok && decodeFast(trimmed, keys, fb) {
		return nil
	}
	return decodeChecked(trimmed, dst, keys)
}

// decodeChecked is decodeStrict's long way, for a trimmed body that starts
// with '{': the text, then the keys, then encoding/json.
func decodeChecked(trimmed []byte, dst any, keys []string) error {
	if err := checkText(trimmed); err != nil {
		return err
	}
	err := domain.CheckObjectKeys(trimmed, func(key string) bool { return slices.Contains(keys, key) })
	if err == nil {
		return unmarshal(trimmed, dst)
	}
	var ke *domain.KeyError // escapes through errors.As: declared only on failure
	switch {
	case errors.As(err, &ke) && ke.Repeated:
		return invalidf(ke.Key, "appears more than once")
	case errors.As(err, &ke):
		return invalidf(ke.Key, "is not a field here; the fields are %s", strings.Join(keys, ", "))
	case errors.Is(err, domain.ErrTrailing):
		return invalidf("", "the body must be exactly one JSON object, with nothing after it")
	}
	return syntaxError(err)
}

// fastBody is a request body decodeFast can fill from its members' JSON
// values, as encoding/json would have filled it.
type fastBody interface {
	// fill sets the body from vals, the raw JSON value of each key in
	// the order readJSON was given them (nil for a key absent), and
	// reports true; or, when a value is not one it reads exactly as
	// encoding/json does (an escape in a string, a number that is not a
	// plain whole number), it changes nothing and reports false. vals
	// comes by value: a slice of it would be made on the heap.
	fill(vals [maxFastKeys][]byte) bool
}

// maxFastKeys is the most keys a body decodeFast reads may have.
const maxFastKeys = 8

// decodeFast decodes trimmed (a body starting with '{') into dst in one
// walk over it, when the long way would accept it and decode it to the
// same value: text that is UTF-8 with no \u escape (so checkText passes),
// valid JSON (one object, nothing after it), keys among keys, unescaped,
// each once, and values fill reads. Anything else, valid or not, makes it
// report false having changed nothing, and the long way decides.
// FuzzDecodeFast holds the two to the same answers.
func decodeFast(trimmed []byte, keys []string, dst fastBody) bool {
	if len(keys) > maxFastKeys || !utf8.Valid(trimmed) || bytes.Contains(trimmed, []byte(`\u`)) || !json.Valid(trimmed) {
		return false
	}
	var vals [maxFastKeys][]byte
	i := skipSpace(trimmed, 1) // past '{'
	for i < len(trimmed) && trimmed[i] == '"' {
		end, escaped := stringEnd(trimmed, i)
		if escaped {
			return false
		}
		k := keyIndex(keys, trimmed[i+1:end-1])
		if k < 0 || vals[k] != nil {
			return false // unknown or repeated: the long way names it
		}
		i = skipSpace(trimmed, skipSpace(trimmed, end)+1) // past ':'
		vend := valueEnd(trimmed, i)
		vals[k] = trimmed[i:vend]
		i = skipSpace(trimmed, vend)
		if i < len(trimmed) && trimmed[i] == ',' {
			i = skipSpace(trimmed, i+1)
		}
	}
	return dst.fill(vals)
}

// keyIndex returns the index of key in keys, or -1: a comparison, not a
// string made of key.
func keyIndex(keys []string, key []byte) int {
	for i, k := range keys {
		if k == string(key) {
			return i
		}
	}
	return -1
}

// skipSpace returns the index of the first byte of b at or after i that is
// not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i]
// (a quote), and whether it holds a backslash escape.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return len(b), escaped
}

// valueEnd returns the index just past the JSON value starting at b[i], in
// valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// fastString reads a JSON value as encoding/json reads it into a string,
// when it is absent, null, or a string with no escape.
func fastString(raw []byte) (string, bool) {
	switch {
	case raw == nil || string(raw) == "null":
		return "", true
	case raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0:
		return string(raw[1 : len(raw)-1]), true
	}
	return "", false
}

// fastUint reads a JSON value as encoding/json reads it into a *uint64,
// when it is absent, null, or a plain whole number that fits.
func fastUint(raw []byte) (*uint64, bool) {
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

// checkText refuses a body holding text that encoding/json would not
// decode as written but silently replace with U+FFFD: bytes that are not
// UTF-8, or a \u escape of half a surrogate pair. An event can never be
// edited, so what is stored must be what was sent. The error names the
// field whose key or value holds it when the body is JSON enough to tell.
func checkText(body []byte) error {
	off, lone := badText(body)
	if off < 0 {
		return nil
	}
	what := "is not valid UTF-8 text"
	if lone {
		what = "holds a \\u escape of half a surrogate pair, which is no character"
	}
	if field := fieldAt(body, off); field != "" {
		return invalidf(field, "%s (at byte %d of the body)", what, off)
	}
	return invalidf("", "the body %s (at byte %d)", what, off)
}

// badText returns the offset of the first text in body that is not UTF-8,
// or of the first \u escape of a lone surrogate inside a JSON string (and
// lone true); -1 if there is none.
func badText(body []byte) (off int, lone bool) {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
		return -1, false
	}
	inString := false
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		case !inString:
			inString = c == '"'
			i++
		case c == '"':
			inString = false
			i++
		case c == '\\' && i+1 < len(body) && body[i+1] == 'u':
			r, ok := hex4(body[i+2:])
			switch {
			case !ok || !utf16.IsSurrogate(r):
				i += 2
			case r < 0xdc00 && len(body) >= i+12 && body[i+6] == '\\' && body[i+7] == 'u':
				if low, ok := hex4(body[i+8:]); ok && low >= 0xdc00 && low <= 0xdfff {
					i += 12
					continue
				}
				return i, true
			default:
				return i, true
			}
		case c == '\\':
			i += 2
		default:
			i++
		}
	}
	return -1, false
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(n), err == nil
}

// fieldAt names the field of the JSON object body whose key or value
// covers byte off ("data.summary", "data.items[2]"), or returns "" when
// body cannot be read as far as off.
func fieldAt(body []byte, off int) string {
	type frame struct {
		object  bool
		wantKey bool
		key     string
		index   int
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case f.object && i > 0:
				b.WriteString(".")
				fallthrough
			case f.object:
				b.WriteString(f.key)
			default:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	// done marks the end of a value in the innermost container.
	done := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			if end > off {
				return path()
			}
			continue
		}
		if end > off {
			return path()
		}
		done()
	}
}

// unmarshal decodes a checked body into dst.
func unmarshal(trimmed []byte, dst any) error {
	if err := json.Unmarshal(trimmed, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalidf(te.Field, "has the wrong kind of value (%s)", te.Value)
		}
		return invalidf("", "the body is not valid: %s", err.Error())
	}
	return nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidf("", "the body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return invalidf("", "the body is not valid JSON: it ends too soon")
}

// idempotencyNamespace derives event ids from Idempotency-Key values that
// are not UUIDs themselves.
var idempotencyNamespace = uuid.MustParse("9a3e1c57-2b64-4f0d-8e71-5c2a9d4b6e13")

// eventID works out a request's event id from the body's "id" and the
// Idempotency-Key header. A key that is a UUID is the id; any other key is
// mapped to one, per principal, so that two principals' keys never collide.
func eventID(r *http.Request, p Principal, bodyID string) (uuid.UUID, error) {
	var id uuid.UUID
	if bodyID != "" {
		u, err := uuid.Parse(bodyID)
		if err != nil || u == uuid.Nil {
			return uuid.Nil, invalidf("id", "must be an id in UUID form, like 0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10")
		}
		id = u
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return id, nil
	}
	if len(key) > 255 {
		return uuid.Nil, invalidf("Idempotency-Key", "is longer than 255 characters")
	}
	k, err := uuid.Parse(key)
	if err != nil || k == uuid.Nil {
		k = uuid.NewSHA1(idempotencyNamespace, []byte(p.Name+"\x00"+key))
	}
	if id != uuid.Nil && id != k {
		return uuid.Nil, invalidf("id", "differs from the Idempotency-Key header; send one or the other")
	}
	return k, nil
}

// query checks a request's query string: only the parameters named, each
// at most once.
type query struct {
	v url.Values
}

func parseQuery(r *http.Request, allowed ...string) (query, error) {
	if r.URL.RawQuery == "" {
		return query{}, nil // Get on the nil Values finds nothing
	}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return query{}, invalidf("", "the query string is malformed")
	}
	for k, vals := range v {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return query{}, invalidf(k, "is not a parameter here; this route takes none")
			}
			return query{}, invalidf(k, "is not a parameter here; the parameters are %s", strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return query{}, invalidf(k, "is given more than once")
		}
	}
	return query{v: v}, nil
}

func (q query) str(name string) string { return q.v.Get(name) }

// bool parses a true/false parameter, false when absent.
func (q query) bool(name string) (bool, error) {
	switch s := q.v.Get(name); s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, invalidf(name, "%q is not true or false", s)
	}
}

// date parses a YYYY-MM-DD parameter, def when absent.
func (q query) date(name string, def domain.Date) (domain.Date, error) {
	s := q.v.Get(name)
	if s == "" {
		return def, nil
	}
	d, err := domain.ParseDate(s)
	if err != nil {
		return domain.Date{}, invalidf(name, "%s", err.Error())
	}
	return d, nil
}

// time parses an RFC 3339 parameter (fractional seconds kept), zero when
// absent.
func (q query) time(name string) (time.Time, error) {
	s := q.v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidf(name, "%q is not a time in RFC 3339 form, like 2025-01-31T09:30:00.123456Z", s)
	}
	if t.IsZero() {
		// 0001-01-01T00:00:00Z is a moment like any other, when nothing
		// was known yet; but the zero time means "not given" (now) to the
		// reads. One nanosecond later is still before anything the ledger
		// can have recorded.
		t = t.Add(time.Nanosecond)
	}
	return t.UTC(), nil
}

// int parses a whole-number parameter in [lo, hi], def when absent.
func (q query) int(name string, def, lo, hi int) (int, error) {
	s := q.v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, invalidf(name, "%q is not a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// pathID parses a UUID path parameter; anything else names nothing, 404.
func pathID(r *http.Request, name, what string) (uuid.UUID, error) {
	s := chi.URLParam(r, name)
	// Only the 36-character form, in either case: uuid.Parse takes that
	// form only with its dashes in place and hex digits elsewhere.
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, name, "%s %q not found: ids are UUIDs", what, s)
	}
	return id, nil
}
