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

// decodeRecord decodes the record b stored at pos into e. e's Data and
// Metadata point into b (capacity-limited, so appending to them cannot
// overwrite the next field): b must not change afterwards. Strings come from
// in, which may be nil. Any malformed input gives an error wrapping
// eventstore.ErrCorrupt; decodeRecord never panics and never reads outside b.
func decodeRecord(pos eventstore.Position, b []byte, in *interner, e *eventstore.RecordedEvent) error {
	if len(b) < recordMin {
		return corruptf("record at position %d: %d bytes, shorter than the %d-byte minimum", pos, len(b), recordMin)
	}
	if b[0] != recordV1 {
		return corruptf("record at position %d: unknown format version %d", pos, b[0])
	}
	copy(e.ID[:], b[offID:offSchema])
	e.SchemaVersion = binary.BigEndian.Uint16(b[offSchema:])
	e.Revision = binary.BigEndian.Uint64(b[offRevision:])
	e.RecordedAt = unixTime(int64(binary.BigEndian.Uint64(b[offRecordedAt:])))
	copy(e.PrevHash[:], b[offPrevHash:offHash])
	copy(e.Hash[:], b[offHash:recordHeader])
	e.Position = pos

	rest := b[recordHeader:]
	var fields [recordFields][]byte
	for i := range fields {
		if len(rest) < 4 {
			return corruptf("record at position %d: field %d has no length", pos, i)
		}
		n := uint64(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		if n > uint64(len(rest)) {
			return corruptf("record at position %d: field %d claims %d bytes, %d remain", pos, i, n, len(rest))
		}
		fields[i] = rest[:n:n]
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return corruptf("record at position %d: %d bytes after the last field", pos, len(rest))
	}
	e.Stream = in.str(fields[0])
	e.Type = in.str(fields[1])
	e.OccurredOn = in.str(fields[2])
	e.RecordedBy = in.str(fields[3])
	e.Data = nilIfEmpty(fields[4])
	e.Metadata = nilIfEmpty(fields[5])
	return nil
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
// strings pointing into them would. A nil *interner allocates every string.
type interner struct {
	m map[string]string
}

// internMax bounds the interner so that a read of a store with very many
// distinct values does not keep all of them.
const internMax = 1 << 14

func newInterner() *interner { return &interner{m: make(map[string]string, 64)} }

func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < internMax {
		in.m[s] = s
	}
	return s
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

// appendRevisionKey appends the revisions bucket's key for a stream's
// revision: the stream's number, then the revision.
func appendRevisionKey(dst []byte, sid, rev uint64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, sid)
	return binary.BigEndian.AppendUint64(dst, rev)
}

// appendIDKey appends the ids bucket's key for an event id in a stream.
func appendIDKey(dst []byte, sid uint64, id [16]byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, sid)
	return append(dst, id[:]...)
}

// streamTip is a stream's entry in the streams bucket: its number (the
// prefix of its index keys) and what an append needs to know of its last
// event, so that appending reads one value rather than the last record.
type streamTip struct {
	sid          uint64
	lastRevision uint64
	lastHash     eventstore.Hash
	lastAt       int64 // the last event's recorded time, Unix nanoseconds
}

const (
	tipV1   byte = 1
	tipSize      = 1 + 8 + 8 + 32 + 8
)

func (t streamTip) appendTo(dst []byte) []byte {
	dst = append(dst, tipV1)
	dst = binary.BigEndian.AppendUint64(dst, t.sid)
	dst = binary.BigEndian.AppendUint64(dst, t.lastRevision)
	dst = append(dst, t.lastHash[:]...)
	return binary.BigEndian.AppendUint64(dst, uint64(t.lastAt))
}

func decodeTip(stream string, b []byte) (streamTip, error) {
	var t streamTip
	if len(b) != tipSize || b[0] != tipV1 {
		return t, corruptf("entry of stream %q: %d bytes, version %d", stream, len(b), firstByte(b))
	}
	t.sid = binary.BigEndian.Uint64(b[1:])
	t.lastRevision = binary.BigEndian.Uint64(b[9:])
	copy(t.lastHash[:], b[17:49])
	t.lastAt = int64(binary.BigEndian.Uint64(b[49:]))
	return t, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
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

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
