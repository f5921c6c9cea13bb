package bolt

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/imattertraining/ledger/eventstore"
)

// An event's record is its envelope in the events bucket, keyed by its
// global position. Version 1:
//
//	offset  size  field
//	0       1     record format version (1)
//	1       16    event id
//	17      2     schema version, big-endian
//	19      8     stream revision, big-endian
//	27      8     recorded time, Unix nanoseconds, big-endian two's complement
//	35      32    prev_hash
//	67      32    hash
//	99      ...   stream, type, occurred_on, recorded_by, data, metadata:
//	              each a 4-byte big-endian length then that many bytes
//
// The record must end exactly after metadata. The fixed-size fields come
// first so that decoding touches them at constant offsets, and every
// variable field is length-prefixed so that no byte of one field can be read
// as another's.
const (
	recordV1      byte = 1
	offID              = 1
	offSchema          = offID + 16
	offRevision        = offSchema + 2
	offRecordedAt      = offRevision + 8
	offPrevHash        = offRecordedAt + 8
	offHash            = offPrevHash + 32
	recordHeader       = offHash + 32
	// recordFields is the number of length-prefixed fields after the header.
	recordFields = 6
	// recordMin is the size of a record whose variable fields are all empty.
	recordMin = recordHeader + recordFields*4
)

// appendRecord appends e's record to dst. e.Position is not encoded: it is
// the record's key. The caller has checked that every field fits in 32 bits.
func appendRecord(dst []byte, e *eventstore.RecordedEvent) []byte {
	dst = append(dst, recordV1)
	dst = append(dst, e.ID[:]...)
	dst = binary.BigEndian.AppendUint16(dst, e.SchemaVersion)
	dst = binary.BigEndian.AppendUint64(dst, e.Revision)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.RecordedAt.UnixNano()))
	dst = append(dst, e.PrevHash[:]...)
	dst = append(dst, e.Hash[:]...)
	for _, s := range [...]string{e.Stream, e.Type, e.OccurredOn, e.RecordedBy} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	for _, b := range [...][]byte{e.Data, e.Metadata} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
		dst = append(dst, b...)
	}
	return dst
}

// corruptf returns an error wrapping eventstore.ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", eventstore.ErrCorrupt, fmt.Sprintf(format, args...))
}

// rawRecord is a record's fields as parsed, its byte fields pointing into
// the record.
type rawRecord struct {
	id                                                  [16]byte
	schemaVersion                                       uint16
	revision                                            uint64
	recordedAt                                          int64
	prevHash, hash                                      eventstore.Hash
	stream, typ, occurredOn, recordedBy, data, metadata []byte
}

// parseRecord parses the record b stored at pos into r. Any malformed input
// gives an error wrapping eventstore.ErrCorrupt; parseRecord never panics
// and never reads outside b. r's byte fields are capacity-limited, so that
// appending to one cannot overwrite the next.
func parseRecord(pos eventstore.Position, b []byte, r *rawRecord) error {
	if len(b) < recordMin {
		return corruptf("record at position %d: %d bytes, shorter than the %d-byte minimum", pos, len(b), recordMin)
	}
	if b[0] != recordV1 {
		return corruptf("record at position %d: unknown format version %d", pos, b[0])
	}
	copy(r.id[:], b[offID:offSchema])
	r.schemaVersion = binary.BigEndian.Uint16(b[offSchema:])
	r.revision = binary.BigEndian.Uint64(b[offRevision:])
	r.recordedAt = int64(binary.BigEndian.Uint64(b[offRecordedAt:]))
	copy(r.prevHash[:], b[offPrevHash:offHash])
	copy(r.hash[:], b[offHash:recordHeader])

	rest := b[recordHeader:]
	var ok bool
	if r.stream, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 0, rest)
	}
	if r.typ, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 1, rest)
	}
	if r.occurredOn, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 2, rest)
	}
	if r.recordedBy, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 3, rest)
	}
	if r.data, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 4, rest)
	}
	if r.metadata, rest, ok = cutField(rest); !ok {
		return fieldErr(pos, 5, rest)
	}
	if len(rest) != 0 {
		return corruptf("record at position %d: %d bytes after the last field", pos, len(rest))
	}
	return nil
}

// cutField cuts one length-prefixed field off the front of b. When ok is
// false, rest is what was left of b.
func cutField(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, b, false
	}
	n := uint64(binary.BigEndian.Uint32(b))
	if n > uint64(len(b)-4) {
		return nil, b, false
	}
	return b[4 : 4+n : 4+n], b[4+n:], true
}

// fieldErr describes a field that cutField could not cut from rest.
func fieldErr(pos eventstore.Position, i int, rest []byte) error {
	if len(rest) < 4 {
		return corruptf("record at position %d: field %d has no length", pos, i)
	}
	return corruptf("record at position %d: field %d claims %d bytes, %d remain", pos, i, binary.BigEndian.Uint32(rest), len(rest)-4)
}

// decodeRecord decodes the record b stored at pos into e. e's Data and
// Metadata point into b: b must not change afterwards. Malformed input gives
// an error wrapping eventstore.ErrCorrupt, never a panic.
func decodeRecord(pos eventstore.Position, b []byte, e *eventstore.RecordedEvent) error {
	var r rawRecord
	if err := parseRecord(pos, b, &r); err != nil {
		return err
	}
	*e = eventstore.RecordedEvent{
		ID: r.id, Stream: string(r.stream), Type: string(r.typ), SchemaVersion: r.schemaVersion,
		Revision: r.revision, Position: pos, RecordedAt: unixTime(r.recordedAt),
		OccurredOn: string(r.occurredOn), RecordedBy: string(r.recordedBy),
		Data: nilIfEmpty(r.data), Metadata: nilIfEmpty(r.metadata),
		PrevHash: r.prevHash, Hash: r.hash,
	}
	return nil
}

// recentStrings shares, within one read of a stream, the strings that
// repeat from event to event (the stream name, types, recorders, dates)
// instead of allocating them once per event; it keeps a few recent values
// per field, so that it costs a few comparisons and no map.
type recentStrings struct {
	typ, occurredOn, recordedBy [8]string
	next                        [3]uint8
}

// decodeRecord is decodeRecord with strings shared with earlier calls and
// with stream, the name of the stream being read.
func (rs *recentStrings) decodeRecord(stream string, pos eventstore.Position, b []byte, e *eventstore.RecordedEvent) error {
	var r rawRecord
	if err := parseRecord(pos, b, &r); err != nil {
		return err
	}
	name := stream
	if string(r.stream) != stream {
		name = string(r.stream)
	}
	*e = eventstore.RecordedEvent{
		ID: r.id, Stream: name, Type: rs.get(&rs.typ, &rs.next[0], r.typ), SchemaVersion: r.schemaVersion,
		Revision: r.revision, Position: pos, RecordedAt: unixTime(r.recordedAt),
		OccurredOn: rs.get(&rs.occurredOn, &rs.next[1], r.occurredOn), RecordedBy: rs.get(&rs.recordedBy, &rs.next[2], r.recordedBy),
		Data: nilIfEmpty(r.data), Metadata: nilIfEmpty(r.metadata),
		PrevHash: r.prevHash, Hash: r.hash,
	}
	return nil
}

func (rs *recentStrings) get(recent *[8]string, next *uint8, b []byte) string {
	for i := range recent {
		if recent[i] == string(b) {
			return recent[i]
		}
	}
	s := string(b)
	recent[*next%8] = s
	*next++
	return s
}

// nilIfEmpty makes an empty payload read back as nil, whatever the caller
// stored (nil or empty), so that both backends agree.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// interner shares the strings that repeat from event to event (stream
// names, types, recorders, dates) so that a long read allocates each once
// instead of once per event, without pinning the read buffers the way
// strings pointing into them would. Strings are handed out as indices, so
// that what refers to them holds no pointers.
type interner struct {
	ids  map[string]int32
	strs []string
}

// internMax bounds the interner: a reader resets it between chunks once it
// holds more, so that reading a store of very many distinct values does not
// keep them all.
const internMax = 1 << 14

func newInterner() *interner { return &interner{ids: make(map[string]int32, 64)} }

// id returns the index of the string b. last remembers the field's previous
// string: consecutive events often share a stream, type, recorder or date,
// and comparing with it is cheaper than hashing.
func (in *interner) id(last *int32, b []byte) int32 {
	if *last >= 0 && int(*last) < len(in.strs) && in.strs[*last] == string(b) {
		return *last
	}
	if i, ok := in.ids[string(b)]; ok {
		*last = i
		return i
	}
	s := string(b)
	i := int32(len(in.strs))
	in.strs = append(in.strs, s)
	in.ids[s] = i
	*last = i
	return i
}

// reset forgets every string if there are too many.
func (in *interner) reset() {
	if len(in.strs) > internMax {
		clear(in.ids)
		clear(in.strs)
		in.strs = in.strs[:0]
	}
}

// Fixed-size keys, all big-endian so that bbolt's byte order is numeric order.

// positionKey is the events bucket's key for pos.
func appendPositionKey(dst []byte, pos eventstore.Position) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(pos))
}

// parsePosition decodes a key or value holding a position.
func parsePosition(b []byte) (eventstore.Position, error) {
	if len(b) != 8 {
		return 0, corruptf("position of %d bytes", len(b))
	}
	return eventstore.Position(binary.BigEndian.Uint64(b)), nil
}

// unixNanoRange reports whether t can be stored as Unix nanoseconds.
func unixNanoRange(t time.Time) bool {
	min := time.Unix(0, math.MinInt64)
	max := time.Unix(0, math.MaxInt64)
	return !t.Before(min) && !t.After(max)
}

// timeFormat renders recorded times in errors.
const timeFormat = time.RFC3339Nano

// unixTime is the recorded time stored as ns, in UTC.
func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
