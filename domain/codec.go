package domain

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The codec: one registry, written out below, maps each stable type name to
// its Go type, its current schema version, the streams it may be in and
// whether it is a decision. Names never come from Go type names, so renaming
// a struct cannot orphan history.
//
// Two ways in, kept apart on purpose:
//   - DecodeNew is for facts a person proposes: strict JSON, then Validate.
//   - DecodeStored is for history: old versions are upcast, unknown fields
//     ignored, and no validation rule ever refuses what was once accepted.

// StreamKind is a set of kinds of stream an event may be appended to.
type StreamKind uint8

// Stream kinds (catalogue column "stream": P, O, or P or O).
const (
	// PractitionerStream is a practitioner-<uuid> stream.
	PractitionerStream StreamKind = 1 << iota
	// OrganisationStream is an organisation-<uuid> stream.
	OrganisationStream
)

// String names the kinds in s, e.g. "practitioner|organisation".
func (s StreamKind) String() string {
	var parts []string
	if s&PractitionerStream != 0 {
		parts = append(parts, "practitioner")
	}
	if s&OrganisationStream != 0 {
		parts = append(parts, "organisation")
	}
	return strings.Join(parts, "|")
}

// TypeInfo describes one registered event type. TypeInfo values are
// read-only and safe for concurrent use.
type TypeInfo struct {
	// Type is the stable name stored in history, e.g. "CourseCompleted".
	Type string
	// Version is the current schema version of the type's data; Encode
	// writes it and DecodeStored upcasts anything older to it.
	Version uint16
	// Streams are the kinds of stream the event may be appended to.
	Streams StreamKind
	// Decision is true for decision events (marked * in the catalogue).
	Decision bool
	// new returns a pointer to a zero value of the type.
	new func() Event
	// upcasts[v] turns stored data of version v (1 ≤ v < Version) into the
	// current type; see upcast.go.
	upcasts map[uint16]upcaster
	// keys are the JSON names of the current type's fields.
	keys map[string]bool
	// goType is the struct type new returns a pointer to.
	goType reflect.Type
	// fast lays out goType for DecodeStored's fast path; nil: none.
	fast *fastLayout
	// flat is true when no field of goType decodes from a JSON object of
	// its own (see objectFree): then the keys checkKeys allows are every
	// key json could meet, and DecodeNew needs no json.Decoder to refuse
	// unknown fields.
	flat bool
}

// AllowedIn reports whether the event may be appended to a stream of kind k.
func (t TypeInfo) AllowedIn(k StreamKind) bool { return t.Streams&k != 0 }

// New returns a pointer to a zero value of the type, e.g. &CourseCompleted{}.
func (t TypeInfo) New() Event { return t.new() }

// upcaster decodes one old version's stored data into the current type.
type upcaster func(data []byte) (Event, error)

// entry is one line of the registry as written below.
type entry struct {
	new      func() Event
	version  uint16
	streams  StreamKind
	decision bool
}

// registry is built once, in code, from the catalogue in DOMAIN.md.
var registry = buildRegistry(catalogue(), upcasters)

// catalogue is the registry's table. A new event type is one line here, one
// struct in events.go and one Validate in validate.go.
func catalogue() map[string]entry {
	const (
		p  = PractitionerStream
		o  = OrganisationStream
		po = PractitionerStream | OrganisationStream
	)
	return map[string]entry{
		TypePractitionerRegistered:          {func() Event { return &PractitionerRegistered{} }, 1, p, false},
		TypePractitionerDetailsChanged:      {func() Event { return &PractitionerDetailsChanged{} }, 1, p, false},
		TypeOrganisationRegistered:          {func() Event { return &OrganisationRegistered{} }, 1, o, false},
		TypePractitionerJoinedOrganisation:  {func() Event { return &PractitionerJoinedOrganisation{} }, 1, p, false},
		TypePractitionerLeftOrganisation:    {func() Event { return &PractitionerLeftOrganisation{} }, 1, p, false},
		TypeSeniorLeadershipSupportRecorded: {func() Event { return &SeniorLeadershipSupportRecorded{} }, 1, p, false},
		TypeSuitabilityAgreed:               {func() Event { return &SuitabilityAgreed{} }, 1, p, false},
		TypeCourseCompleted:                 {func() Event { return &CourseCompleted{} }, 1, p, false},
		TypeCPDEngagementRecorded:           {func() Event { return &CPDEngagementRecorded{} }, 1, p, false},
		TypeReflectiveUpdateSubmitted:       {func() Event { return &ReflectiveUpdateSubmitted{} }, 1, p, false},
		TypeParticipantFeedbackGathered:     {func() Event { return &ParticipantFeedbackGathered{} }, 1, p, false},
		TypeActionPlanSubmitted:             {func() Event { return &ActionPlanSubmitted{} }, 1, p, false},
		TypeStudyGroupRun:                   {func() Event { return &StudyGroupRun{} }, 1, p, false},
		TypeTrackerAssessmentRecorded:       {func() Event { return &TrackerAssessmentRecorded{} }, 1, p, false},
		TypePracticeSupportEvidenced:        {func() Event { return &PracticeSupportEvidenced{} }, 1, p, false},
		TypeProfessionalStandingEvidenced:   {func() Event { return &ProfessionalStandingEvidenced{} }, 2, p, false},
		TypeIndemnityInsuranceRecorded:      {func() Event { return &IndemnityInsuranceRecorded{} }, 1, p, false},
		TypeApplicationSubmitted:            {func() Event { return &ApplicationSubmitted{} }, 1, p, false},
		TypeReferenceReceived:               {func() Event { return &ReferenceReceived{} }, 1, p, false},
		TypeInterviewHeld:                   {func() Event { return &InterviewHeld{} }, 1, p, false},
		TypeApplicationDecided:              {func() Event { return &ApplicationDecided{} }, 1, p, true},
		TypeTraineeshipStarted:              {func() Event { return &TraineeshipStarted{} }, 1, p, false},
		TypeCertificationAwarded:            {func() Event { return &CertificationAwarded{} }, 1, p, true},
		TypeCertificationSuspended:          {func() Event { return &CertificationSuspended{} }, 1, p, true},
		TypeCertificationReinstated:         {func() Event { return &CertificationReinstated{} }, 1, p, true},
		TypeCertificationWithdrawn:          {func() Event { return &CertificationWithdrawn{} }, 1, p, true},
		TypeLicenceGranted:                  {func() Event { return &LicenceGranted{} }, 1, po, true},
		TypeLicenceRenewed:                  {func() Event { return &LicenceRenewed{} }, 1, po, true},
		TypeLicenceSuspended:                {func() Event { return &LicenceSuspended{} }, 1, po, true},
		TypeLicenceReinstated:               {func() Event { return &LicenceReinstated{} }, 1, po, true},
		TypeLicenceRevoked:                  {func() Event { return &LicenceRevoked{} }, 1, po, true},
		TypeDirectoryListingConsented:       {func() Event { return &DirectoryListingConsented{} }, 1, p, false},
		TypeDirectoryListingWithdrawn:       {func() Event { return &DirectoryListingWithdrawn{} }, 1, p, false},
		TypeDecisionReviewed:                {func() Event { return &DecisionReviewed{} }, 1, po, false},
		TypeEventRetracted:                  {func() Event { return &EventRetracted{} }, 1, po, false},
		TypePersonalDataErased:              {func() Event { return &PersonalDataErased{} }, 1, p, false},
	}
}

// buildRegistry checks the table and the upcasters against each other, so
// that a mistake in either fails every test at once rather than one replay
// years later.
func buildRegistry(entries map[string]entry, ups map[string]map[uint16]upcaster) map[string]*TypeInfo {
	reg := make(map[string]*TypeInfo, len(entries))
	for name, e := range entries {
		ev := e.new()
		if ev.EventType() != name {
			panic(fmt.Sprintf("domain: registry entry %s makes a %s", name, ev.EventType()))
		}
		if _, isDecision := DecisionOf(ev); isDecision != e.decision {
			panic(fmt.Sprintf("domain: registry entry %s: decision is %v, the type says %v", name, e.decision, isDecision))
		}
		for v := uint16(1); v < e.version; v++ {
			if ups[name][v] == nil {
				panic(fmt.Sprintf("domain: %s has version %d but no upcaster from version %d", name, e.version, v))
			}
		}
		t := reflect.TypeOf(ev).Elem()
		keys := map[string]bool{}
		jsonKeys(t, keys)
		reg[name] = &TypeInfo{
			Type: name, Version: e.version, Streams: e.streams, Decision: e.decision,
			new: e.new, upcasts: ups[name], keys: keys, goType: t, fast: fastLayoutOf(t),
			flat: objectFree(t, true),
		}
	}
	for name, vs := range ups {
		for v := range vs {
			if t, ok := reg[name]; !ok || v < 1 || v >= t.Version {
				panic(fmt.Sprintf("domain: upcaster for %s version %d matches no older version of a registered type", name, v))
			}
		}
	}
	return reg
}

// jsonKeys collects the JSON names of struct type t's fields, including
// those of embedded structs (Decision), as encoding/json sees them.
func jsonKeys(t reflect.Type, keys map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			jsonKeys(f.Type, keys)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
}

var sortedTypes = sync.OnceValue(func() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
})

// Types returns every registered event type name, sorted.
func Types() []string { return slices.Clone(sortedTypes()) }

// Lookup returns what the registry knows of typ.
func Lookup(typ string) (TypeInfo, bool) {
	t, ok := registry[typ]
	if !ok {
		return TypeInfo{}, false
	}
	return *t, true
}

// DecodeNew decodes and validates the data of a new event of type typ, as a
// person proposed it. It is strict: the body must be exactly one JSON
// object whose keys are the type's field names, spelt exactly, each once;
// then the event must pass Validate (which includes the scan for personal
// identifiers). Every failure is an EINVALID *Error naming the field at
// fault ("type", "data" or "data.<name>"). The event returned is a pointer,
// e.g. *CourseCompleted. Check it against its effective date with
// ValidateFact.
func DecodeNew(typ string, data []byte) (Event, error) {
	t, ok := registry[typ]
	if !ok {
		if typ == "" {
			return nil, Errorf(EINVALID, "type", "is required; one of the event types (%s, …)", strings.Join(sortedTypes()[:3], ", "))
		}
		return nil, Errorf(EINVALID, "type", "%q is not an event type", typ)
	}
	if err := checkKeys(t, data); err != nil {
		return nil, err
	}
	ev, err := decodeChecked(t, data, flatPath(t, data))
	if err != nil {
		return nil, decodeError(t, data, err)
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// flatPath reports whether DecodeNew decodes data for t with
// json.Unmarshal: t is flat and data is exactly one object, with nothing
// around it (checkKeys trims Unicode spaces, which json.Unmarshal would
// refuse where the decoder ignores them).
func flatPath(t *TypeInfo, data []byte) bool {
	return t.flat && len(data) > 1 && data[0] == '{' && data[len(data)-1] == '}'
}

// decodeChecked decodes data, whose keys checkKeys has accepted (so it is
// one valid JSON object), into a new event of type t. A flat type is
// decoded by json.Unmarshal: checkKeys has refused every key its fields
// do not name, and no field holds an object of its own whose keys could
// be unknown. Otherwise a json.Decoder refuses unknown fields at every
// depth. Both give the same event and the same errors for a flat type
// (TestDecodeCheckedPathsAgree).
func decodeChecked(t *TypeInfo, data []byte, flat bool) (Event, error) {
	ev := t.new()
	if flat {
		return ev, json.Unmarshal(data, ev)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return ev, dec.Decode(ev)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// objectFree reports whether no value of type t decodes from a JSON object
// field by field: json.Decoder's DisallowUnknownFields would find nothing
// in it to refuse. A type that unmarshals itself (JSON or text) decides
// alone what it accepts; scalars hold no object; pointers, slices and
// arrays hold what their elements hold; a struct is looked into only at
// the top (top: the event's own fields, whose keys checkKeys checks).
func objectFree(t reflect.Type, top bool) bool {
	if !top && (t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)) {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return objectFree(t.Elem(), false)
	case reflect.Struct:
		if !top {
			return false
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
				if !objectFree(f.Type, true) {
					return false
				}
				continue
			}
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			if !objectFree(f.Type, false) {
				return false
			}
		}
		return true
	}
	return false
}

// checkKeys makes encoding/json's lenient habits strict: it matches keys
// without regard to case and lets a repeated key silently win, and neither
// belongs in a record that can never be corrected in place. It also refuses
// anything but exactly one JSON object.
func checkKeys(t *TypeInfo, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return Errorf(EINVALID, "data", "is required: a JSON object with the fields of %s", t.Type)
	}
	if trimmed[0] != '{' {
		return Errorf(EINVALID, "data", "must be a JSON object with the fields of %s", t.Type)
	}
	err := CheckObjectKeys(trimmed, func(key string) bool { return t.keys[key] })
	if err == nil {
		return nil
	}
	var ke *KeyError // escapes through errors.As: declared only on failure
	switch {
	case errors.As(err, &ke) && ke.Repeated:
		return Errorf(EINVALID, "data."+ke.Key, "appears more than once")
	case errors.As(err, &ke):
		return Errorf(EINVALID, "data."+ke.Key, "is not a field of %s; its fields are %s", t.Type, strings.Join(sortedKeys(t.keys), ", "))
	case errors.Is(err, ErrTrailing):
		return Errorf(EINVALID, "data", "must be exactly one JSON object, with nothing after it")
	}
	return syntaxError(err)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func syntaxError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return Errorf(EINVALID, "data", "is not valid JSON: it ends too soon")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Errorf(EINVALID, "data", "is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return Errorf(EINVALID, "data", "is not valid JSON")
}

// decodeError turns an encoding/json error into an *Error naming the field.
func decodeError(t *TypeInfo, data []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := "data"
		if te.Field != "" {
			field += "." + te.Field
		}
		return Errorf(EINVALID, field, "must be %s, not %s", describeType(te.Type), describeJSON(te.Value))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return syntaxError(err)
	}
	// A field's own UnmarshalText (a date, a UUID) failed; encoding/json does
	// not say which field, so find the one that fails on its own.
	return Errorf(EINVALID, failingKey(t, data), "%s", textError(err))
}

// failingKey finds the top-level key whose value alone fails to decode into
// t. It runs only on an error path, so decoding each member again is fine.
func failingKey(t *TypeInfo, data []byte) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return "data"
	}
	for _, key := range sortedKeys(boolKeys(members)) {
		one, err := json.Marshal(map[string]json.RawMessage{key: members[key]})
		if err != nil {
			continue
		}
		if json.Unmarshal(one, t.new()) != nil {
			return "data." + key
		}
	}
	return "data"
}

func boolKeys(m map[string]json.RawMessage) map[string]bool {
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys
}

// textError rewrites the errors of the text decoders used by event fields
// into messages a person can act on.
func textError(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "invalid UUID") {
		return "must be an id in UUID form, like 0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10"
	}
	return msg
}

func describeType(t reflect.Type) string {
	if t == nil {
		return "a different kind of value"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Array, reflect.Struct:
		if t == reflect.TypeFor[Date]() {
			return "a date as YYYY-MM-DD"
		}
		if t.Kind() == reflect.Array {
			return "an id in UUID form"
		}
		return "a JSON object"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return "a different kind of value"
}

func describeJSON(v string) string {
	switch {
	case v == "string":
		return "text"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case strings.HasPrefix(v, "number"):
		return strings.Replace(v, "number", "the number", 1)
	}
	return v
}

// DecodeStored decodes a stored event's data, written with schema version
// version of type typ (0 is read as 1, as the store does), into the current
// Go type, upcasting older versions. It never applies validation rules and
// ignores unknown fields: history that was once accepted always replays.
// It fails only when typ is unknown (an error wrapping ErrUnknownType),
// version is newer than this code knows, or the bytes cannot be decoded at
// all; none of these is an *Error, as none is the caller's fault. The event returned is a
// pointer, e.g. *CourseCompleted.
//
// It runs once per event in a projection rebuild, so the current version
// is decoded in a single pass, by the fast path in codec_fast.go when the
// data is of the plain shape Encode writes (giving exactly what
// encoding/json gives), else by encoding/json.
func DecodeStored(typ string, version uint16, data []byte) (Event, error) {
	t, ok := registry[typ]
	if !ok {
		return nil, fmt.Errorf("%w %q (schema version %d)", ErrUnknownType, typ, version)
	}
	if version == 0 {
		version = 1
	}
	switch {
	case version == t.Version:
		ev := t.new()
		if t.fast != nil && t.fast.decode(data, reflect.ValueOf(ev).Elem()) {
			return ev, nil
		}
		ev = t.new()
		if err := json.Unmarshal(data, ev); err != nil {
			return nil, fmt.Errorf("domain: decode stored %s v%d: %w", typ, version, err)
		}
		return ev, nil
	case version > t.Version:
		return nil, fmt.Errorf("domain: stored %s is schema version %d, newer than the %d this ledger knows", typ, version, t.Version)
	}
	ev, err := t.upcasts[version](data)
	if err != nil {
		return nil, fmt.Errorf("domain: decode stored %s v%d: %w", typ, version, err)
	}
	return ev, nil
}

// Encode returns the JSON data of e and the schema version it is written
// in: the current version of e's type. e must be a registered type.
func Encode(e Event) ([]byte, uint16, error) {
	if e == nil {
		return nil, 0, errors.New("domain: encode nil event")
	}
	if missing(e) {
		return nil, 0, fmt.Errorf("domain: encode nil %T", e)
	}
	t, ok := registry[e.EventType()]
	if !ok {
		return nil, 0, fmt.Errorf("domain: encode unregistered event type %q", e.EventType())
	}
	if rt := reflect.TypeOf(e); rt != reflect.PointerTo(t.goType) {
		return nil, 0, fmt.Errorf("domain: encode %s: %s is not the registered Go type", t.Type, rt)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, 0, fmt.Errorf("domain: encode %s: %w", t.Type, err)
	}
	return data, t.Version, nil
}
