package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func ptr[T any](v T) *T { return &v }

func testReadStream(t *testing.T, h harness) {
	t.Run("an unknown stream is not found", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		_, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
		assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "in an empty store")

		mustAppend(t, ctx, s, "practitioner-2", eventstore.Any(), Event("CourseCompleted"))
		_, err = s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
		assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "beside another stream")
		_, err = s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{UpToRevision: ptr(uint64(3))})
		assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "with UpToRevision")
	})

	t.Run("stream names that prefix each other stay apart", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		// Backends that key events by stream name and revision must not let
		// one stream's scan run into the next one's keys.
		names := []string{"p", "p-1", "p-10", "p-1\x00", "p-2"}
		want := map[string][]eventstore.EventData{}
		for i := range 3 {
			for _, name := range names {
				e := Event("CourseCompleted")
				want[name] = append(want[name], e)
				mustAppend(t, ctx, s, name, expectAfter(i), e)
			}
		}
		for _, name := range names {
			got := readStream(t, ctx, s, name)
			assert.Equal(t, dataIDs(want[name]), ids(got), "stream %q", name)
			assertContiguous(t, name, got)
		}
		for _, missing := range []string{"p-", "p-100", "p-1\x00\x00", "q"} {
			_, err := s.ReadStream(ctx, missing, eventstore.ReadOptions{})
			assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "stream %q", missing)
		}
	})

	t.Run("up to revision", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		events := newEvents(5, "CourseCompleted")
		mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), events...)
		cases := []struct {
			name string
			upTo uint64
			want int
		}{
			{"first revision", 0, 1},
			{"a middle revision", 2, 3},
			{"last revision", 4, 5},
			{"past the end", 10, 5},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{UpToRevision: ptr(tc.upTo)})
				require.NoError(t, err)
				assert.Equal(t, dataIDs(events[:tc.want]), ids(got))
			})
		}
	})

	t.Run("known at a given recorded time", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		base := time.Date(2024, 3, 1, 9, 0, 0, 123456789, time.UTC)
		events := newEvents(3, "CourseCompleted")
		for i := range events {
			events[i].RecordedAt = base.Add(time.Duration(i) * time.Second)
			mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), events[i])
		}
		paris := time.FixedZone("UTC+2", 2*60*60)
		cases := []struct {
			name    string
			knownAt time.Time
			upTo    *uint64
			want    int
		}{
			{"the first event's own time", base, nil, 1},
			{"a nanosecond before the second", base.Add(time.Second - 1), nil, 1},
			{"the second event's own time", base.Add(time.Second), nil, 2},
			{"the same instant in another zone", base.Add(time.Second).In(paris), nil, 2},
			{"after the last", base.Add(time.Hour), nil, 3},
			{"with up to revision", base.Add(time.Hour), ptr(uint64(0)), 1},
			{"up to revision past what was known", base.Add(time.Second), ptr(uint64(2)), 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{KnownAt: tc.knownAt, UpToRevision: tc.upTo})
				require.NoError(t, err)
				assert.Equal(t, dataIDs(events[:tc.want]), ids(got))
			})
		}
	})

	t.Run("an event's own recorded time includes it", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		for range 4 {
			mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
		}
		all := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, all, 4)
		for _, e := range all {
			// The time as an API client would send it back: RFC 3339 text.
			knownAt, err := time.Parse(time.RFC3339Nano, e.RecordedAt.Format(time.RFC3339Nano))
			require.NoError(t, err)
			var want []eventstore.RecordedEvent
			for _, o := range all {
				if !o.RecordedAt.After(knownAt) {
					want = append(want, o)
				}
			}
			got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{KnownAt: knownAt})
			require.NoError(t, err)
			assert.Contains(t, ids(got), e.ID, "known at its own recorded time %s", knownAt)
			assert.Equal(t, ids(want), ids(got), "known at %s", knownAt)
		}
	})
}

func testReadAll(t *testing.T, h harness) {
	t.Run("an empty store yields nothing", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		assert.Empty(t, readAll(t, ctx, s, eventstore.Start))
	})

	t.Run("global order across streams", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		type step struct {
			stream string
			n      int
		}
		steps := []step{{"practitioner-a", 1}, {"practitioner-b", 2}, {"practitioner-a", 1}, {"organisation-c", 3}, {"practitioner-b", 1}, {"practitioner-a", 2}}
		var want []eventstore.EventData
		var results []eventstore.AppendResult
		for _, st := range steps {
			evs := newEvents(st.n, "CourseCompleted")
			results = append(results, mustAppend(t, ctx, s, st.stream, eventstore.Any(), evs...))
			want = append(want, evs...)
		}

		got := readAll(t, ctx, s, eventstore.Start)
		require.Equal(t, dataIDs(want), ids(got), "ReadAll gives events in append order")
		assertIncreasingPositions(t, got)
		i := 0
		for k, st := range steps {
			assert.Equal(t, results[k].FirstPosition, got[i].Position, "first position of append %d", k)
			assert.Equal(t, results[k].LastPosition, got[i+st.n-1].Position, "last position of append %d", k)
			assert.Equal(t, st.stream, got[i].Stream)
			i += st.n
		}

		// ReadAll and ReadStream give the same envelopes.
		byID := map[uuid.UUID]eventstore.RecordedEvent{}
		for _, e := range got {
			byID[e.ID] = e
		}
		for _, stream := range []string{"practitioner-a", "practitioner-b", "organisation-c"} {
			for _, e := range readStream(t, ctx, s, stream) {
				assert.Equal(t, e, byID[e.ID], "event %s read by stream and by ReadAll", e.ID)
			}
		}
	})

	t.Run("from a position", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		for i := range 8 {
			mustAppend(t, ctx, s, fmt.Sprintf("practitioner-%d", i%3), eventstore.Any(), newEvents(1+i%2, "CourseCompleted")...)
		}
		all := readAll(t, ctx, s, eventstore.Start)
		require.Len(t, all, 12)
		after := func(p eventstore.Position) []eventstore.RecordedEvent {
			var out []eventstore.RecordedEvent
			for _, e := range all {
				if e.Position > p {
					out = append(out, e)
				}
			}
			return out
		}
		cases := []struct {
			name string
			from eventstore.Position
		}{
			{"start", eventstore.Start},
			{"first event", all[0].Position},
			{"a middle event", all[5].Position},
			{"just past a middle event", all[5].Position + 1},
			{"the last but one event", all[10].Position},
			{"the last event", all[11].Position},
			{"past the end", all[11].Position + 1000},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := readAll(t, ctx, s, tc.from)
				assert.Equal(t, ids(after(tc.from)), ids(got))
			})
		}
	})

	t.Run("many events", func(t *testing.T) {
		// Enough events that a backend reading in pages or chunks crosses
		// several of their boundaries.
		s := h.open(t)
		ctx := testContext(t)
		const appends, batch = 26, 100
		var want []eventstore.EventData
		streams := []string{"practitioner-big", "practitioner-big", "practitioner-small"}
		for i := range appends {
			evs := newEvents(batch, "CourseCompleted")
			mustAppend(t, ctx, s, streams[i%len(streams)], eventstore.Any(), evs...)
			want = append(want, evs...)
		}
		all := readAll(t, ctx, s, eventstore.Start)
		require.Equal(t, dataIDs(want), ids(all))
		assertIncreasingPositions(t, all)
		for _, k := range []int{511, 1023, 1024, 1025, 2047, 2048, len(all) - 2} {
			got := readAll(t, ctx, s, all[k].Position)
			assert.Equal(t, ids(all[k+1:]), ids(got), "ReadAll after event %d", k)
		}
		big := readStream(t, ctx, s, "practitioner-big")
		assert.Len(t, big, 1800)
		assertContiguous(t, "practitioner-big", big)
		upTo, err := s.ReadStream(ctx, "practitioner-big", eventstore.ReadOptions{UpToRevision: ptr(uint64(1300))})
		require.NoError(t, err)
		assert.Equal(t, ids(big[:1301]), ids(upTo))
	})

	t.Run("stopping early releases the store", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), newEvents(5, "CourseCompleted")...)
		n := 0
		for _, err := range s.ReadAll(ctx, eventstore.Start) {
			require.NoError(t, err)
			n++
			if n == 2 {
				break
			}
		}
		assert.Equal(t, 2, n)
		// A read left behind by break must not block writers or later reads.
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Exact(4), Event("CourseCompleted"))
		assert.Len(t, readAll(t, ctx, s, eventstore.Start), 6)
	})
}

func testRoundTrip(t *testing.T, h harness) {
	t.Run("payloads are kept byte for byte", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		big := bytes.Repeat([]byte(`{"k":"0123456789abcdef"},`), 4096)
		big = append(append([]byte("["), big[:len(big)-1]...), ']')
		cases := []struct {
			name           string
			data, metadata []byte
		}{
			{"odd spacing and key order", []byte("{ \"z\" : 1,\n\t\"a\":[ ] }"), []byte(`{"b":2,"a":1}`)},
			{"escapes and unicode", []byte(`{"name":"Zo\u00eb Example","city":"Zoë-sur-Mer","s":"\"\\/"}`), []byte(`{}`)},
			{"trailing newline", []byte("{\"a\":1}\n"), []byte("{\"b\":2}\r\n")},
			{"no metadata", []byte(`{"a":1}`), nil},
			{"large payload", big, []byte(`{"size":"large"}`)},
		}
		var want []eventstore.EventData
		for _, tc := range cases {
			e := Event("CourseCompleted")
			e.Data, e.Metadata = tc.data, tc.metadata
			want = append(want, e)
		}
		mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), want...)
		byStream := readStream(t, ctx, s, "practitioner-1")
		byAll := readAll(t, ctx, s, eventstore.Start)
		require.Len(t, byStream, len(cases))
		require.Len(t, byAll, len(cases))
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				assertStored(t, want[i], byStream[i])
				assertStored(t, want[i], byAll[i])
				assert.Len(t, byStream[i].Metadata, len(tc.metadata))
			})
		}
	})

	t.Run("envelope fields", func(t *testing.T) {
		cases := []struct {
			name   string
			change func(*eventstore.EventData)
			wantSV uint16
		}{
			{"unset schema version reads as 1", func(e *eventstore.EventData) { e.SchemaVersion = 0 }, 1},
			{"schema version 7", func(e *eventstore.EventData) { e.SchemaVersion = 7 }, 7},
			{"largest schema version", func(e *eventstore.EventData) { e.SchemaVersion = 65535 }, 65535},
			{"unicode recorder and long type", func(e *eventstore.EventData) {
				e.RecordedBy = "reviewer:Zoë Example"
				e.Type = "LeadProfessionalTrainingCompletedWithAVeryLongTypeName"
			}, 1},
			{"empty occurred on and recorder", func(e *eventstore.EventData) { e.OccurredOn, e.RecordedBy = "", "" }, 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				e := Event("CourseCompleted")
				tc.change(&e)
				res := mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), e)
				got := readStream(t, ctx, s, "practitioner-1")
				require.Len(t, got, 1)
				assertStored(t, e, got[0])
				assert.Equal(t, tc.wantSV, got[0].SchemaVersion)
				assert.Equal(t, "practitioner-1", got[0].Stream)
				assert.Equal(t, uint64(0), got[0].Revision)
				assert.Equal(t, res.FirstPosition, got[0].Position)
			})
		}
	})

	t.Run("the store's clock records UTC", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		before := time.Now()
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
		after := time.Now()
		got := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, got, 1)
		at := got[0].RecordedAt
		assert.Equal(t, time.UTC, at.Location(), "RecordedAt is in UTC")
		// A minute of slack allows for a server backend's clock skew; the
		// check is that the store used a clock at all, and the right one.
		assert.False(t, at.Before(before.Add(-time.Minute)), "RecordedAt %s is before the append began at %s", at, before)
		assert.False(t, at.After(after.Add(time.Minute)), "RecordedAt %s is after the append ended at %s", at, after)
	})

	t.Run("a given recorded time is kept to the nanosecond in UTC", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		at := time.Date(2023, 11, 5, 14, 3, 7, 123456789, time.FixedZone("UTC+1", 60*60))
		e := Event("CourseCompleted")
		e.RecordedAt = at
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), e)
		for name, got := range map[string]eventstore.RecordedEvent{
			"ReadStream": readStream(t, ctx, s, "practitioner-1")[0],
			"ReadAll":    readAll(t, ctx, s, eventstore.Start)[0],
		} {
			assert.True(t, at.Equal(got.RecordedAt), "%s: want %s, got %s", name, at, got.RecordedAt)
			assert.Equal(t, time.UTC, got.RecordedAt.Location(), "%s: RecordedAt is in UTC", name)
			assert.Equal(t, 123456789, got.RecordedAt.Nanosecond(), "%s: nanoseconds kept", name)
		}
	})

	t.Run("the caller may reuse its buffers after Append", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		e := Event("CourseCompleted")
		data := []byte(`{"a":"original"}`)
		meta := []byte(`{"m":"original"}`)
		e.Data, e.Metadata = data, meta
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), e)
		copy(data, `{"a":"OVERWRITE"}`)
		copy(meta, `{"m":"OVERWRITE"}`)
		got := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, got, 1)
		assert.Equal(t, `{"a":"original"}`, string(got[0].Data))
		assert.Equal(t, `{"m":"original"}`, string(got[0].Metadata))
	})
}
