package domain

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The fast path of DecodeStored. A rebuild decodes every stored event, and
// encoding/json spends most of its time validating the bytes twice and
// finding fields by reflection; the data the ledger writes (Encode's own
// output) is one flat object of strings, numbers and booleans. So each
// registered type's fields are laid out once, and DecodeStored reads the
// common shapes directly into the struct.
//
// It gives exactly what json.Unmarshal gives or gives up: any input it is
// not sure of (a key that is not a field's exact name, a null, a value of
// the wrong JSON type, a string escape it does not read, invalid UTF-8,
// malformed JSON) makes it report false, and DecodeStored decodes the data
// again, from a fresh value, with encoding/json. Field values of any other
// type (a pointer, the nested Evaluation) are handed to encoding/json one
// by one, decoding into the field as json.Unmarshal would.
//
// What it still earns (issue 17, measured on a busy 2-core machine, 2 vCPU
// AMD EPYC, Go 1.26.8: projections' BenchmarkRebuild/plain, CPU per
// rebuild of the benchmark store, median of 5 runs of 3): 446 ms with this
// path, 680 ms with encoding/json alone (34% less CPU, 1.64 M against
// 2.84 M allocations), and 516 ms with GOEXPERIMENT=jsonv2's
// encoding/json/v2 alone (14% less). It is kept because it earns more than
// 10% against both.
//
// Plan for its removal: when encoding/json/v2 ships without the experiment,
// decode with it in DecodeStored's fallback, re-run BenchmarkRebuild, and
// once this path earns under 10% against it, delete this file's decoder
// (fastLayout, the fast field of TypeInfo, FuzzDecodeStored's comparison)
// and keep only skipSpace and skipValue, which ObjectKeys walks with.

// fastKind is how the fast path reads one field's value.
type fastKind uint8

const (
	fastJSON   fastKind = iota // by encoding/json, into the field
	fastString                 // a JSON string into a string
	fastEnum                   // a JSON string into a named string type: common values shared
	fastBool                   // true or false
	fastInt                    // a JSON integer into a signed integer
	fastFloat                  // a JSON number into a float64
	fastText                   // a JSON string through the field's UnmarshalText (Date, uuid.UUID)
)

type fastField struct {
	name  string
	index []int
	kind  fastKind
}

// fastLayout is the fields of one event type as encoding/json names them.
type fastLayout struct {
	fields []fastField
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// fastLayoutOf lays out struct type t for the fast path, or returns nil
// when t has a field whose naming the fast path does not mirror (a ",string"
// option, or two fields under one name, which encoding/json resolves by
// depth).
func fastLayoutOf(t reflect.Type) *fastLayout {
	l := &fastLayout{}
	if !l.add(t, nil) {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range l.fields {
		if seen[f.name] {
			return nil
		}
		seen[f.name] = true
	}
	return l
}

func (l *fastLayout) add(t reflect.Type, index []int) bool {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && name == "" {
			if f.Type.Kind() != reflect.Struct || !f.IsExported() {
				return false
			}
			if !l.add(f.Type, idx) {
				return false
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if strings.Contains(","+opts+",", ",string,") || !validJSONName(name) {
			return false
		}
		if name == "" {
			name = f.Name
		}
		l.fields = append(l.fields, fastField{name: name, index: idx, kind: fastKindOf(f.Type)})
	}
	return true
}

// validJSONName reports whether encoding/json would use tag name as given
// (it falls back to the Go name for some punctuation); the fast path only
// takes plain names.
func validJSONName(name string) bool {
	for _, c := range name {
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func fastKindOf(t reflect.Type) fastKind {
	pt := reflect.PointerTo(t)
	switch {
	case t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType):
		return fastJSON
	case pt.Implements(textUnmarshalerType):
		if t.Implements(textUnmarshalerType) {
			return fastJSON // a value receiver: leave it to encoding/json
		}
		return fastText
	}
	switch t.Kind() {
	case reflect.String:
		if t == reflect.TypeFor[string]() {
			return fastString
		}
		return fastEnum
	case reflect.Bool:
		return fastBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fastInt
	case reflect.Float64:
		return fastFloat
	}
	return fastJSON
}

// enumValues holds every value of the catalogue's enumerations, so that
// decoding one shares the constant's string instead of allocating a copy.
var enumValues = func() map[string]string {
	m := map[string]string{}
	add := func(vs ...string) {
		for _, v := range vs {
			m[v] = v
		}
	}
	add(stringsOf(professions)...)
	add(stringsOf(organisationKinds)...)
	add(stringsOf(courses)...)
	add(stringsOf(groupCourses)...)
	add(stringsOf(audiences)...)
	add(stringsOf(cpdKinds)...)
	add(stringsOf(reflectiveKinds)...)
	add(stringsOf(applicationRoles)...)
	add(stringsOf(roles)...)
	add(stringsOf(interviewOutcomes)...)
	add(stringsOf(applicationOutcome)...)
	add(stringsOf(licenceKinds)...)
	add(stringsOf(licenceScopes)...)
	add(stringsOf(directories)...)
	add(stringsOf(reviewOutcomes)...)
	return m
}()

func stringsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// decode reads data into v (the struct a registered type's new returns a
// pointer to, zero) and reports whether it did; on false, v may be partly
// set and must be thrown away.
func (l *fastLayout) decode(data []byte, v reflect.Value) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	var buf []byte // unescaped string values
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		key, end, escaped, ok := scanString(data, i)
		if !ok || escaped {
			return false
		}
		f := l.field(key)
		if f == nil {
			return false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		if i, buf, ok = f.set(data, i, v, buf); !ok {
			return false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// field returns the field named exactly key, or nil. (encoding/json would
// also take a key differing in case; the fast path leaves that to it.)
func (l *fastLayout) field(key []byte) *fastField {
	for i := range l.fields {
		if l.fields[i].name == string(key) {
			return &l.fields[i]
		}
	}
	return nil
}

// set reads the value starting at data[i] into f's field of v and returns
// the index after it.
func (f *fastField) set(data []byte, i int, v reflect.Value, buf []byte) (int, []byte, bool) {
	if i >= len(data) {
		return 0, buf, false
	}
	fv := v.Field(f.index[0])
	for _, k := range f.index[1:] {
		fv = fv.Field(k)
	}
	switch f.kind {
	case fastString, fastEnum, fastText:
		if data[i] != '"' {
			return 0, buf, false
		}
		s, end, escaped, ok := scanString(data, i)
		if !ok {
			return 0, buf, false
		}
		if escaped {
			if buf, ok = unescape(buf[:0], s); !ok {
				return 0, buf, false
			}
			s = buf
		}
		switch f.kind {
		case fastText:
			u, _ := fv.Addr().Interface().(encoding.TextUnmarshaler)
			if u == nil || u.UnmarshalText(s) != nil {
				return 0, buf, false
			}
		case fastEnum:
			if c, ok := enumValues[string(s)]; ok {
				fv.SetString(c)
			} else {
				fv.SetString(string(s))
			}
		default:
			fv.SetString(string(s))
		}
		return end, buf, true
	case fastBool:
		switch {
		case hasLiteral(data, i, "true"):
			fv.SetBool(true)
			return i + 4, buf, true
		case hasLiteral(data, i, "false"):
			fv.SetBool(false)
			return i + 5, buf, true
		}
		return 0, buf, false
	case fastInt, fastFloat:
		end, integer, ok := scanNumber(data, i)
		if !ok {
			return 0, buf, false
		}
		if f.kind == fastInt {
			if !integer {
				return 0, buf, false
			}
			n, err := strconv.ParseInt(string(data[i:end]), 10, 64)
			if err != nil || fv.OverflowInt(n) {
				return 0, buf, false
			}
			fv.SetInt(n)
			return end, buf, true
		}
		x, err := strconv.ParseFloat(string(data[i:end]), 64)
		if err != nil {
			return 0, buf, false
		}
		fv.SetFloat(x)
		return end, buf, true
	}
	end, ok := skipValue(data, i)
	if !ok || json.Unmarshal(data[i:end], fv.Addr().Interface()) != nil {
		return 0, buf, false
	}
	return end, buf, true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// scanString reads the JSON string whose opening quote is data[i]: its raw
// contents, the index after the closing quote, and whether it holds
// escapes. It fails on a control character, invalid UTF-8 (which
// encoding/json would replace) or a missing closing quote.
func scanString(data []byte, i int) (s []byte, end int, escaped, ok bool) {
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s = data[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false, false
			}
			return s, j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++ // the escaped character, checked by unescape
			if j < len(data) && data[j] >= utf8.RuneSelf {
				return nil, 0, false, false
			}
		case c < ' ':
			return nil, 0, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false, false
}

// unescape appends the unescaped contents s of a JSON string to buf. It
// fails on an escape it does not read as encoding/json does (a surrogate
// \u, which json pairs or replaces), leaving those to encoding/json.
func unescape(buf, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			buf = append(buf, c)
			continue
		}
		i++
		if i >= len(s) {
			return buf, false
		}
		switch s[i] {
		case '"', '\\', '/':
			buf = append(buf, s[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if len(s)-i < 5 {
				return buf, false
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
			if err != nil || 0xd800 <= r && r < 0xe000 {
				return buf, false
			}
			buf = utf8.AppendRune(buf, rune(r))
			i += 4
		default:
			return buf, false
		}
	}
	return buf, true
}

// scanNumber reads a JSON number at data[i] (RFC 8259 grammar) and reports
// its end and whether it is an integer (no fraction or exponent).
func scanNumber(data []byte, i int) (end int, integer, ok bool) {
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	switch {
	case j < len(data) && data[j] == '0':
		j++
	case j < len(data) && '1' <= data[j] && data[j] <= '9':
		j = skipDigits(data, j)
	default:
		return 0, false, false
	}
	integer = true
	if j < len(data) && data[j] == '.' {
		integer = false
		j++
		k := j
		j = skipDigits(data, j)
		if j == k {
			return 0, false, false
		}
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		integer = false
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		k := j
		j = skipDigits(data, j)
		if j == k {
			return 0, false, false
		}
	}
	return j, integer, true
}

// skipValue finds the end of the JSON value at data[i], which
// encoding/json then checks in full: strings are skipped with their
// escapes, objects and arrays by depth.
func skipValue(data []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			k := j + 1
			for k < len(data) && data[k] != '"' {
				if data[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(data) {
				return 0, false
			}
			j = k
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, j > i
			}
			depth--
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j, j > i
			}
		}
		if depth == 0 && (data[j] == '"' || data[j] == '}' || data[j] == ']') {
			return j + 1, true
		}
	}
	if depth == 0 {
		return len(data), len(data) > i
	}
	return 0, false
}

// skipDigits returns the index of the first byte of data at or after j that
// is not an ASCII digit.
func skipDigits(data []byte, j int) int {
	for j < len(data) && '0' <= data[j] && data[j] <= '9' {
		j++
	}
	return j
}
