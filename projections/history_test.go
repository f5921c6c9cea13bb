package projections

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

func TestHistory(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	id := f.practitioner("Alex Example", "2029-01-10")
	stream := PractitionerStream(id)
	a := f.add(stream, "2029-02-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart1})
	b := f.add(stream, "2029-03-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart2})
	r1 := f.add(stream, "2029-04-01", &domain.EventRetracted{RetractedEventID: a.ID, Reason: "recorded against the wrong person"})
	r2 := f.add(stream, "2029-04-02", &domain.EventRetracted{RetractedEventID: r1.ID, Reason: "the first record was right after all"})
	v := NewViews(store)

	tests := []struct {
		name    string
		knownAt time.Time
		want    map[uuid.UUID]*uuid.UUID // event -> retracted_by; every event listed
	}{
		{"now: the retraction is itself retracted, so the course stands", time.Time{},
			map[uuid.UUID]*uuid.UUID{a.ID: nil, b.ID: nil, r1.ID: &r2.ID, r2.ID: nil}},
		{"before the second retraction: the course is retracted", r1.RecordedAt,
			map[uuid.UUID]*uuid.UUID{a.ID: &r1.ID, b.ID: nil, r1.ID: nil}},
		{"before any retraction", b.RecordedAt,
			map[uuid.UUID]*uuid.UUID{a.ID: nil, b.ID: nil}},
		{"a nanosecond before b was recorded leaves b out", b.RecordedAt.Add(-time.Nanosecond),
			map[uuid.UUID]*uuid.UUID{a.ID: nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := v.History(f.ctx, stream, tc.knownAt)
			require.NoError(t, err)
			require.Len(t, items, len(tc.want)+1, "registration plus the listed events")
			assert.Equal(t, domain.TypePractitionerRegistered, items[0].Type)
			for i, it := range items {
				assert.Equal(t, uint64(i), it.Revision, "revision order")
				if i == 0 {
					continue
				}
				want, ok := tc.want[it.EventID]
				require.True(t, ok, "unexpected event %s", it.EventID)
				assert.Equal(t, want, it.RetractedBy, "retracted_by of revision %d", i)
			}
		})
	}

	t.Run("envelope fields are the stored ones", func(t *testing.T) {
		items, err := v.History(f.ctx, stream, time.Time{})
		require.NoError(t, err)
		stored, err := store.ReadStream(f.ctx, stream, eventstore.ReadOptions{})
		require.NoError(t, err)
		require.Len(t, items, len(stored))
		for i, e := range stored {
			it := items[i]
			assert.Equal(t, e.ID, it.EventID)
			assert.Equal(t, e.Type, it.Type)
			assert.Equal(t, e.OccurredOn, it.OccurredOn)
			assert.Equal(t, e.RecordedBy, it.RecordedBy)
			assert.Equal(t, e.Position, it.Position)
			assert.JSONEq(t, string(e.Data), string(it.Data))
			assert.Equal(t, e.Hash.String(), it.Hash)
			assert.Equal(t, e.PrevHash.String(), it.PrevHash)
			back, err := time.Parse(time.RFC3339Nano, it.RecordedAt)
			require.NoError(t, err)
			assert.True(t, back.Equal(e.RecordedAt), "recorded_at keeps the nanoseconds")
			assert.Equal(t, "Z", it.RecordedAt[len(it.RecordedAt)-1:], "recorded_at is UTC")
		}
		assert.Equal(t, items[1].PrevHash, items[0].Hash, "chained")
	})

	t.Run("unknown or not yet known streams are not found", func(t *testing.T) {
		for name, c := range map[string]struct {
			stream  string
			knownAt time.Time
		}{
			"unknown stream":         {PractitionerStream(uuid.New()), time.Time{}},
			"before its first event": {stream, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			_, err := v.History(f.ctx, c.stream, c.knownAt)
			assert.ErrorIs(t, err, ErrNotFound, name)
			assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), name)
		}
	})
}
