package eventstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func baseFields() eventstore.ChainFields {
	return eventstore.ChainFields{
		ID:            uuid.MustParse("0b7d6f3e-9a43-4c55-8c1e-3f0a5d2b7e11"),
		Stream:        "practitioner-0b7d6f3e",
		Type:          "CourseCompleted",
		SchemaVersion: 1,
		Revision:      3,
		RecordedAt:    time.Date(2024, 3, 1, 9, 30, 15, 123456789, time.UTC),
		OccurredOn:    "2024-02-28",
		RecordedBy:    "admin:Test Administrator",
		DataSum:       sha256.Sum256([]byte(`{"course":"Foundations"}`)),
		MetadataSum:   sha256.Sum256(nil),
		PrevHash:      sha256.Sum256([]byte("previous event")),
	}
}

func TestComputeHashCoversEveryField(t *testing.T) {
	base := baseFields()
	baseHash := eventstore.ComputeHash(base)
	cases := []struct {
		name   string
		change func(*eventstore.ChainFields)
	}{
		{"id", func(f *eventstore.ChainFields) { f.ID[15] ^= 1 }},
		{"stream", func(f *eventstore.ChainFields) { f.Stream += "x" }},
		{"type", func(f *eventstore.ChainFields) { f.Type = "CourseRetracted" }},
		{"schema version", func(f *eventstore.ChainFields) { f.SchemaVersion = 2 }},
		{"revision", func(f *eventstore.ChainFields) { f.Revision = 4 }},
		{"revision, high bits", func(f *eventstore.ChainFields) { f.Revision += 1 << 32 }},
		{"recorded at, one nanosecond", func(f *eventstore.ChainFields) { f.RecordedAt = f.RecordedAt.Add(time.Nanosecond) }},
		{"recorded at, 2^32 nanoseconds", func(f *eventstore.ChainFields) { f.RecordedAt = f.RecordedAt.Add(1 << 32) }},
		{"occurred on", func(f *eventstore.ChainFields) { f.OccurredOn = "2024-02-29" }},
		{"recorded by", func(f *eventstore.ChainFields) { f.RecordedBy = "admin:Other Administrator" }},
		{"data sum", func(f *eventstore.ChainFields) { f.DataSum[0] ^= 0x80 }},
		{"metadata sum", func(f *eventstore.ChainFields) { f.MetadataSum[31] ^= 1 }},
		{"prev hash", func(f *eventstore.ChainFields) { f.PrevHash = eventstore.Hash{} }},
	}
	seen := map[eventstore.Hash]string{baseHash: "base"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			tc.change(&f)
			h := eventstore.ComputeHash(f)
			assert.NotEqual(t, baseHash, h, "changing the %s must change the hash", tc.name)
			other, dup := seen[h]
			assert.False(t, dup, "hash equals the one for %s", other)
			seen[h] = tc.name
		})
	}
}

func TestComputeHashLengthPrefixes(t *testing.T) {
	// Each pair concatenates to the same bytes; only the length prefixes
	// tell them apart.
	cases := []struct {
		name string
		a, b func(*eventstore.ChainFields)
	}{
		{
			"stream and type",
			func(f *eventstore.ChainFields) { f.Stream, f.Type = "ab", "c" },
			func(f *eventstore.ChainFields) { f.Stream, f.Type = "a", "bc" },
		},
		{
			"empty stream and type",
			func(f *eventstore.ChainFields) { f.Stream, f.Type = "", "abc" },
			func(f *eventstore.ChainFields) { f.Stream, f.Type = "abc", "" },
		},
		{
			"occurred on and recorded by",
			func(f *eventstore.ChainFields) { f.OccurredOn, f.RecordedBy = "2024-01-01", "admin" },
			func(f *eventstore.ChainFields) { f.OccurredOn, f.RecordedBy = "2024-01-01a", "dmin" },
		},
		{
			"type reaching into the schema version",
			func(f *eventstore.ChainFields) { f.Type, f.SchemaVersion = "X\x00", 0x0101 },
			func(f *eventstore.ChainFields) { f.Type, f.SchemaVersion = "X", 0x0001 },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := baseFields(), baseFields()
			tc.a(&a)
			tc.b(&b)
			assert.NotEqual(t, eventstore.ComputeHash(a), eventstore.ComputeHash(b))
		})
	}
}

func TestComputeHashIgnoresTimeRepresentation(t *testing.T) {
	// The hash covers the instant, so a backend that hands RecordedAt back in
	// another zone, or without the monotonic reading, still verifies.
	base := baseFields()
	want := eventstore.ComputeHash(base)
	cases := []struct {
		name string
		at   time.Time
	}{
		{"another zone", base.RecordedAt.In(time.FixedZone("UTC+2", 2*60*60))},
		{"local", base.RecordedAt.Local()},
		{"parsed from RFC 3339", func() time.Time {
			p, err := time.Parse(time.RFC3339Nano, base.RecordedAt.Format(time.RFC3339Nano))
			require.NoError(t, err)
			return p
		}()},
		{"from Unix nanoseconds", time.Unix(0, base.RecordedAt.UnixNano())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			f.RecordedAt = tc.at
			assert.Equal(t, want, eventstore.ComputeHash(f))
		})
	}
}

// referenceHash encodes f as ComputeHash's documentation describes it,
// independently of its code: a change to the encoding would orphan every
// stored chain, so it must be deliberate.
func referenceHash(f eventstore.ChainFields) eventstore.Hash {
	var b []byte
	field := func(p []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	field([]byte("imatter-ledger/event/v1"))
	field(f.ID[:])
	field([]byte(f.Stream))
	field([]byte(f.Type))
	field(binary.BigEndian.AppendUint16(nil, f.SchemaVersion))
	field(binary.BigEndian.AppendUint64(nil, f.Revision))
	field(binary.BigEndian.AppendUint64(nil, uint64(f.RecordedAt.UnixNano())))
	field([]byte(f.OccurredOn))
	field([]byte(f.RecordedBy))
	field(f.DataSum[:])
	field(f.MetadataSum[:])
	field(f.PrevHash[:])
	return sha256.Sum256(b)
}

func TestComputeHashEncoding(t *testing.T) {
	empty := eventstore.ChainFields{RecordedAt: time.Unix(0, 0)}
	unicode := baseFields()
	unicode.RecordedBy = "reviewer:Zoë Example"
	unicode.Stream = strings.Repeat("p", 300)
	for name, f := range map[string]eventstore.ChainFields{"base": baseFields(), "empty": empty, "unicode and long": unicode} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, referenceHash(f), eventstore.ComputeHash(f))
		})
	}
}

func TestChainFieldsOf(t *testing.T) {
	e := eventstore.RecordedEvent{
		ID: uuid.New(), Stream: "practitioner-1", Type: "CourseCompleted", SchemaVersion: 2,
		Revision: 7, Position: 99, RecordedAt: time.Date(2024, 3, 1, 0, 0, 0, 1, time.UTC),
		OccurredOn: "2024-02-28", RecordedBy: "admin:Test Administrator",
		Data: []byte(`{"a":1}`), Metadata: []byte(`{"m":2}`),
		PrevHash: sha256.Sum256([]byte("prev")), Hash: sha256.Sum256([]byte("ignored")),
	}
	f := eventstore.ChainFieldsOf(e)
	assert.Equal(t, eventstore.ChainFields{
		ID: e.ID, Stream: e.Stream, Type: e.Type, SchemaVersion: 2, Revision: 7,
		RecordedAt: e.RecordedAt, OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy,
		DataSum: sha256.Sum256(e.Data), MetadataSum: sha256.Sum256(e.Metadata), PrevHash: e.PrevHash,
	}, f)

	t.Run("position is not covered", func(t *testing.T) {
		moved := e
		moved.Position = 12345
		assert.Equal(t, eventstore.ComputeHash(f), eventstore.ComputeHash(eventstore.ChainFieldsOf(moved)))
	})
	t.Run("nil and empty metadata hash alike", func(t *testing.T) {
		a, b := e, e
		a.Metadata, b.Metadata = nil, []byte{}
		assert.Equal(t, eventstore.ComputeHash(eventstore.ChainFieldsOf(a)), eventstore.ComputeHash(eventstore.ChainFieldsOf(b)))
	})
}

func TestHashStringAndParse(t *testing.T) {
	h := eventstore.Hash(sha256.Sum256([]byte("x")))
	s := h.String()
	assert.Len(t, s, 64)
	assert.Equal(t, strings.ToLower(s), s)
	back, err := eventstore.ParseHash(s)
	require.NoError(t, err)
	assert.Equal(t, h, back)

	upper, err := eventstore.ParseHash(strings.ToUpper(s))
	require.NoError(t, err, "upper-case hex is accepted")
	assert.Equal(t, h, upper)

	zero, err := eventstore.ParseHash(strings.Repeat("0", 64))
	require.NoError(t, err)
	assert.True(t, zero.IsZero())
	assert.False(t, h.IsZero())

	for name, bad := range map[string]string{
		"empty":          "",
		"63 characters":  s[:63],
		"62 characters":  s[:62],
		"66 characters":  s + "00",
		"not hex":        "zz" + s[2:],
		"with prefix":    "0x" + s[:62],
		"with a newline": s[:63] + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := eventstore.ParseHash(bad)
			assert.Error(t, err)
		})
	}
}

// damagedAfter reads events and then fails with err, as a damaged file
// does. Verify only reads, and the faults it must catch (gaps, broken
// links) are ones a real backend refuses to store.
type damagedAfter struct {
	events eventstore.Events
	err    error
}

func (s damagedAfter) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for e, err := range s.events.ReadAll(ctx, from) {
			if !yield(e, err) {
				return
			}
		}
		yield(eventstore.RecordedEvent{}, s.err)
	}
}

// chained builds a valid history: streams interleaved in global order, each
// event hashed over its fields and chained to its stream's previous event.
func chained(streams ...string) []eventstore.RecordedEvent {
	tips := map[string]eventstore.RecordedEvent{}
	var out []eventstore.RecordedEvent
	for i, stream := range streams {
		e := eventstore.RecordedEvent{
			ID: uuid.New(), Stream: stream, Type: "CourseCompleted", SchemaVersion: 1,
			Position:   eventstore.Position(10 * (i + 1)),
			RecordedAt: time.Date(2024, 3, 1, 9, 0, i, 0, time.UTC), OccurredOn: "2024-03-01",
			RecordedBy: "admin:Test Administrator", Data: []byte(`{"n":` + string(rune('0'+i%10)) + `}`),
		}
		if prev, ok := tips[stream]; ok {
			e.Revision, e.PrevHash = prev.Revision+1, prev.Hash
		}
		e.Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(e))
		tips[stream] = e
		out = append(out, e)
	}
	return out
}

func TestVerify(t *testing.T) {
	history := func() []eventstore.RecordedEvent {
		return chained("practitioner-a", "practitioner-b", "practitioner-a", "organisation-c", "practitioner-b", "practitioner-a")
	}
	cases := []struct {
		name       string
		damage     func([]eventstore.RecordedEvent) []eventstore.RecordedEvent
		failAt     int // index of the event Verify must name; -1 when it verifies
		reason     string
		wantChecks int
	}{
		{"an intact history", nil, -1, "", 6},
		{"no events", func([]eventstore.RecordedEvent) []eventstore.RecordedEvent { return nil }, -1, "", 0},
		{"a flipped data byte", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			h[2].Data = []byte(`{"n":9}`)
			return h
		}, 2, "hash does not match", 2},
		{"a flipped hash byte", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			h[4].Hash[5] ^= 1
			return h
		}, 4, "hash does not match", 4},
		{"an altered recorded time", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			h[3].RecordedAt = h[3].RecordedAt.Add(time.Nanosecond)
			return h
		}, 3, "hash does not match", 3},
		{"a removed event", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			return append(h[:2], h[3:]...)
		}, 4, "revision 2 where 1 was expected", 4},
		{"a rehashed event breaks the next link", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			// Recomputing a tampered event's own hash is not enough: its
			// successor still names the old one.
			h[0].Data = []byte(`{"n":8}`)
			h[0].Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(h[0]))
			return h
		}, 2, "prev_hash", 2},
		{"a first event with a previous hash", func(h []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			h[1].PrevHash[0] = 1
			h[1].Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(h[1]))
			return h
		}, 1, "prev_hash", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := history()
			if tc.damage != nil {
				events = tc.damage(events)
			}
			rep, err := eventstore.Verify(t.Context(), eventstore.Events(events))
			require.NoError(t, err)
			assert.Equal(t, tc.wantChecks, rep.EventsChecked)
			if tc.failAt < 0 {
				assert.True(t, rep.OK)
				assert.Nil(t, rep.FirstFailure)
				return
			}
			assert.False(t, rep.OK)
			require.NotNil(t, rep.FirstFailure)
			bad := events[tc.failAt]
			assert.Equal(t, eventstore.VerifyFailure{
				Stream: bad.Stream, Revision: bad.Revision, EventID: bad.ID, Position: bad.Position, Reason: rep.FirstFailure.Reason,
			}, *rep.FirstFailure)
			assert.Contains(t, rep.FirstFailure.Reason, tc.reason)
		})
	}

	t.Run("a read error is returned with what was checked", func(t *testing.T) {
		errDamaged := errors.New("damaged page")
		rep, err := eventstore.Verify(t.Context(), damagedAfter{events: history()[:3], err: errDamaged})
		assert.ErrorIs(t, err, errDamaged)
		assert.False(t, rep.OK)
		assert.Equal(t, 3, rep.EventsChecked)
	})
}

// accountedStore is history in memory that keeps its own account of what it
// holds, as the embedded store does.
type accountedStore struct {
	eventstore.Events
	heads eventstore.Account
}

func (s accountedStore) Account(context.Context) (eventstore.Account, error) { return s.heads, nil }
func (s accountedStore) Damage() error                                       { return s.heads.Damage }

// headsOf is the account a healthy store keeps of events.
func headsOf(events []eventstore.RecordedEvent) eventstore.Account {
	h := eventstore.Account{Streams: map[string]eventstore.Head{}}
	for _, e := range events {
		h.Last = e.Position
		h.Streams[e.Stream] = eventstore.Head{Revision: e.Revision, Hash: e.Hash}
	}
	return h
}

// TestVerifyHoldsTheEventsAgainstTheStoresAccount: events removed cleanly
// leave every remaining chain intact; Verify finds them through what the
// store records of its last position and stream heads, and names what is
// missing.
func TestVerifyHoldsTheEventsAgainstTheStoresAccount(t *testing.T) {
	history := chained("practitioner-a", "practitioner-b", "practitioner-a", "organisation-c", "practitioner-b", "practitioner-a")
	errDamage := errors.New("positions 20 to 20 are missing")
	cases := []struct {
		name     string
		events   []eventstore.RecordedEvent // what is read
		heads    func(eventstore.Account) eventstore.Account
		stream   string
		position eventstore.Position
		reason   string
	}{
		{"intact", history, nil, "", 0, ""},
		{"appended to after the account was taken", history, func(eventstore.Account) eventstore.Account { return headsOf(history[:4]) }, "", 0, ""},
		{"the last event removed", history[:5], nil, "", 60, "records position 60 as its last event's, but the last one read is at position 50"},
		{"every event removed", nil, nil, "", 60, "records position 60 as its last event's, but none was read"},
		{"a stream's last event removed", append(history[:4:4], history[5]), func(h eventstore.Account) eventstore.Account {
			h.Damage = errDamage
			return h
		}, "practitioner-b", 0, "revision 1 as this stream's last, but the last read is revision 0: revisions 1 to 1 are missing"},
		{"damage the store cannot place", history, func(h eventstore.Account) eventstore.Account {
			h.Damage = errDamage
			return h
		}, "", 60, "found itself damaged when it opened: " + errDamage.Error()},
		{"a damaged stream", history, func(h eventstore.Account) eventstore.Account {
			b := h.Streams["practitioner-b"]
			b.Damage = errors.New("revision 3 where 2 was expected")
			h.Streams["practitioner-b"] = b
			return h
		}, "practitioner-b", 0, "found this stream damaged"},
		{"a head the store hashes otherwise", history, func(h eventstore.Account) eventstore.Account {
			a := h.Streams["practitioner-a"]
			a.Hash[0] ^= 1
			h.Streams["practitioner-a"] = a
			return h
		}, "practitioner-a", 60, "records hash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			heads := headsOf(history)
			if tc.heads != nil {
				heads = tc.heads(heads)
			}
			rep, err := eventstore.Verify(t.Context(), accountedStore{tc.events, heads})
			require.NoError(t, err)
			if tc.reason == "" {
				assert.True(t, rep.OK, "%+v", rep.FirstFailure)
				assert.Equal(t, len(tc.events), rep.EventsChecked)
				return
			}
			assert.False(t, rep.OK)
			require.NotNil(t, rep.FirstFailure)
			assert.Equal(t, tc.stream, rep.FirstFailure.Stream)
			if tc.position != 0 {
				assert.Equal(t, tc.position, rep.FirstFailure.Position)
			}
			assert.Contains(t, rep.FirstFailure.Reason, tc.reason)
		})
	}
}
