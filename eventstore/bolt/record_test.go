package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// sampleEvent is a fully populated envelope about a fictional adult.
func sampleEvent() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		ID:            uuid.MustParse("8a3c6f0e-2b1d-4c5e-9f70-1a2b3c4d5e6f"),
		Stream:        "practitioner-7",
		Type:          "CourseCompleted",
		SchemaVersion: 2,
		Revision:      41,
		Position:      1234,
		RecordedAt:    time.Date(2024, 3, 1, 9, 30, 0, 123456789, time.UTC),
		OccurredOn:    "2024-02-28",
		RecordedBy:    "admin:Test Administrator",
		Data:          []byte(`{"course":"Level 2","practitioner":"Test Practitioner"}`),
		Metadata:      []byte(`{"source":"test"}`),
		PrevHash:      eventstore.Hash{1, 2, 3},
		Hash:          eventstore.Hash{4, 5, 6},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		change func(*eventstore.RecordedEvent)
	}{
		{"every field set", func(*eventstore.RecordedEvent) {}},
		{"empty payloads read as nil", func(e *eventstore.RecordedEvent) { e.Data, e.Metadata = nil, nil }},
		{"empty strings", func(e *eventstore.RecordedEvent) { e.OccurredOn, e.RecordedBy = "", "" }},
		{"time before 1970", func(e *eventstore.RecordedEvent) { e.RecordedAt = time.Date(1901, 1, 1, 0, 0, 0, 1, time.UTC) }},
		{"largest revision and schema version", func(e *eventstore.RecordedEvent) {
			e.Revision, e.SchemaVersion = 1<<64-1, 65535
		}},
		{"bytes that look like lengths", func(e *eventstore.RecordedEvent) {
			e.Data = []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
			e.Stream = "\x00\x00\x00\x10"
		}},
		{"large payload", func(e *eventstore.RecordedEvent) { e.Data = bytes.Repeat([]byte("x"), 1<<20) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := sampleEvent()
			tc.change(&want)
			rec := appendRecord(nil, &want)

			var got eventstore.RecordedEvent
			require.NoError(t, decodeRecord(want.Position, rec, &got))
			if len(want.Data) == 0 {
				want.Data = nil
			}
			if len(want.Metadata) == 0 {
				want.Metadata = nil
			}
			assert.Equal(t, want, got)
			assert.Equal(t, time.UTC, got.RecordedAt.Location())

			// Appending to a decoded payload must not write into the
			// record's next field.
			if len(got.Data) > 0 {
				_ = append(got.Data, 'z')
				var again eventstore.RecordedEvent
				require.NoError(t, decodeRecord(want.Position, rec, &again))
				assert.Equal(t, want.Metadata, again.Metadata)
			}
		})
	}
}

func TestRecordLayoutIsStable(t *testing.T) {
	// A stored file must stay readable: pin the encoding of one record.
	e := eventstore.RecordedEvent{
		ID: uuid.UUID{0: 0xaa, 15: 0xbb}, Stream: "s", Type: "T", SchemaVersion: 1,
		Revision: 2, RecordedAt: time.Unix(0, 3), OccurredOn: "d", RecordedBy: "r",
		Data: []byte("{}"), Metadata: nil, PrevHash: eventstore.Hash{31: 1}, Hash: eventstore.Hash{0: 2},
	}
	rec := appendRecord(nil, &e)
	want := []byte{1, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbb, 0, 1}
	want = binary.BigEndian.AppendUint64(want, 2)
	want = binary.BigEndian.AppendUint64(want, 3)
	want = append(want, e.PrevHash[:]...)
	want = append(want, e.Hash[:]...)
	for _, f := range []string{"s", "T", "d", "r", "{}", ""} {
		want = binary.BigEndian.AppendUint32(want, uint32(len(f)))
		want = append(want, f...)
	}
	assert.Equal(t, want, rec)
}

func TestDecodeRecordRefusesMalformedInput(t *testing.T) {
	good := sampleEvent()
	rec := appendRecord(nil, &good)
	// dataLen is the offset of the data field's length prefix.
	dataLen := recordHeader + 4*4 + len(good.Stream) + len(good.Type) + len(good.OccurredOn) + len(good.RecordedBy)
	mutate := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(rec)) }
	cases := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{recordV1}},
		{"header only", rec[:recordHeader]},
		{"truncated in the last field", rec[:len(rec)-1]},
		{"trailing byte", append(bytes.Clone(rec), 0)},
		{"unknown version", mutate(func(b []byte) []byte { b[0] = 2; return b })},
		{"version zero", mutate(func(b []byte) []byte { b[0] = 0; return b })},
		{"length past the end", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[dataLen:], uint32(len(good.Data)+len(good.Metadata)+5))
			return b
		})},
		{"largest length", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[recordHeader:], 0xffffffff)
			return b
		})},
		{"a length one short leaves trailing bytes", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[len(b)-len(good.Metadata)-4:], uint32(len(good.Metadata)-1))
			return b
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e eventstore.RecordedEvent
			err := decodeRecord(7, tc.rec, &e)
			assert.ErrorIs(t, err, eventstore.ErrCorrupt)
			assert.Contains(t, err.Error(), "position 7")
		})
	}
}

func TestParseHead(t *testing.T) {
	e := sampleEvent()
	rec := appendRecord(nil, &e)
	var r rawRecord
	require.NoError(t, parseHead(4, rec, &r))
	assert.Equal(t, [16]byte(e.ID), r.id)
	assert.Equal(t, e.Revision, r.revision)
	assert.Equal(t, e.RecordedAt.UnixNano(), r.recordedAt)
	assert.Equal(t, e.Hash, r.hash)
	assert.Equal(t, e.Stream, string(r.stream))

	// The index needs only the head: damage after the stream is left for
	// the read of the record to find.
	require.NoError(t, parseHead(4, rec[:len(rec)-1], &r))
	for name, bad := range map[string][]byte{
		"empty":           nil,
		"header only":     rec[:recordHeader],
		"unknown version": append([]byte{9}, rec[1:]...),
		"stream overruns": rec[:recordHeader+4+len(e.Stream)-1],
	} {
		err := parseHead(4, bad, &r)
		assert.ErrorIs(t, err, eventstore.ErrCorrupt, name)
	}
}

func TestInterner(t *testing.T) {
	in := newInterner()
	last := int32(-1)
	a := in.id(&last, []byte("practitioner-1"))
	b := in.id(&last, []byte("practitioner-2"))
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, in.id(&last, []byte("practitioner-1")), "a known string keeps its index")
	assert.Equal(t, a, last)
	assert.Equal(t, a, in.id(&last, []byte("practitioner-1")), "the last string is remembered")
	assert.Equal(t, "practitioner-2", in.strs[b])

	for i := range internMax + 1 {
		in.id(&last, binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	in.reset()
	assert.Empty(t, in.strs, "a full interner forgets")
	last = 0 // stale index from before the reset
	assert.Equal(t, int32(0), in.id(&last, []byte("after")))
	assert.Equal(t, "after", in.strs[0])
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder: it must
// return a result or an ErrCorrupt error, never panic, and whatever it
// accepts must encode back to the same bytes (the encoding is canonical).
func FuzzDecodeRecord(f *testing.F) {
	e := sampleEvent()
	f.Add(appendRecord(nil, &e))
	empty := eventstore.RecordedEvent{}
	f.Add(appendRecord(nil, &empty))
	f.Add([]byte{})
	f.Add([]byte{recordV1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got eventstore.RecordedEvent
		err := decodeRecord(1, b, &got)
		// The index's parse of the head accepts every record the full
		// parse does, and reads the same fields.
		var head rawRecord
		headErr := parseHead(1, b, &head)
		if headErr != nil && !errors.Is(headErr, eventstore.ErrCorrupt) {
			t.Fatalf("head error %v does not wrap ErrCorrupt", headErr)
		}
		if err == nil && (headErr != nil || head.id != got.ID || head.revision != got.Revision || head.hash != got.Hash || string(head.stream) != got.Stream || head.recordedAt != got.RecordedAt.UnixNano()) {
			t.Fatalf("head parse disagrees with the record's: %v %+v", headErr, head)
		}
		if err != nil {
			if !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if re := appendRecord(nil, &got); !bytes.Equal(re, b) {
			t.Fatalf("decoded record re-encodes differently:\n in %x\nout %x", b, re)
		}
	})
}

// FuzzRecordRoundTrip encodes arbitrary envelopes and checks they decode to
// the same values.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add([]byte("id-0123456789abc"), "practitioner-1", "CourseCompleted", uint16(1), uint64(0), int64(0), "2024-01-01", "admin:x", []byte(`{}`), []byte(nil))
	f.Add([]byte{}, "", "", uint16(0), uint64(1<<63), int64(-1), "", "", []byte(nil), []byte{0})
	f.Fuzz(func(t *testing.T, id []byte, stream, typ string, sv uint16, rev uint64, at int64, occ, by string, data, meta []byte) {
		want := eventstore.RecordedEvent{
			Stream: stream, Type: typ, SchemaVersion: sv, Revision: rev, Position: 3,
			RecordedAt: unixTime(at), OccurredOn: occ, RecordedBy: by, Data: data, Metadata: meta,
		}
		copy(want.ID[:], id)
		copy(want.Hash[:], data)
		copy(want.PrevHash[:], meta)
		var got eventstore.RecordedEvent
		if err := decodeRecord(3, appendRecord(nil, &want), &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Data, got.Data) || !bytes.Equal(want.Metadata, got.Metadata) {
			t.Fatal("payload changed")
		}
		want.Data, want.Metadata, got.Data, got.Metadata = nil, nil, nil, nil
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}
