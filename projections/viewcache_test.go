package projections

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// countingStore counts the stream reads that reach the store.
type countingStore struct {
	eventstore.Store
	reads atomic.Int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, o eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	c.reads.Add(1)
	return c.Store.ReadStream(ctx, stream, o)
}

// TestCurrentViewFromTheSubscription: a view asked for again is answered
// without reading the store; an event for the practitioner, a change of an
// organisation it names, or another date renders it afresh, and the
// answer is what a fold on demand gives.
func TestCurrentViewFromTheSubscription(t *testing.T) {
	inner := openStore(t, t.TempDir())
	store := &countingStore{Store: inner}
	f := newFixture(t, inner)
	org := f.organisation("Example Primary School", domain.OrgSchool, "2029-01-01")
	id := f.practitioner("Robin Example", "2029-01-10")
	other := f.practitioner("Sam Sample", "2029-01-10")
	ps := PractitionerStream(id)
	f.add(ps, "2029-01-11", &domain.PractitionerJoinedOrganisation{OrganisationID: org})
	f.add(ps, "2029-02-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart1})
	p, err := New(store, Options{Today: func() domain.Date { return date("2029-06-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitReady(ctx))
	today := date("2029-06-01")

	read := func(on domain.Date, knownAt time.Time) (PractitionerView, string, int64) {
		t.Helper()
		require.NoError(t, p.WaitFor(ctx, lastPosition(t, inner)))
		before := store.reads.Load()
		body, tag, err := p.PractitionerJSON(ctx, id, on, knownAt, 0)
		require.NoError(t, err)
		var got PractitionerView
		require.NoError(t, json.Unmarshal(body, &got))
		want, err := NewViews(inner).Practitioner(ctx, id, on, knownAt)
		require.NoError(t, err)
		wantBody, err := json.Marshal(want)
		require.NoError(t, err)
		assert.JSONEq(t, string(wantBody), string(body), "the same as a fold on demand")
		assert.Equal(t, want.Tag(), tag)
		return got, tag, store.reads.Load() - before
	}

	v, tag, reads := read(today, time.Time{})
	assert.Positive(t, reads, "first read folds the stream")
	_, again, reads := read(today, time.Time{})
	assert.Zero(t, reads, "asked again: no read of the store")
	assert.Equal(t, tag, again)

	f.add(PractitionerStream(other), "2029-02-01", &domain.CourseCompleted{Course: domain.CourseFoundationB})
	_, _, reads = read(today, time.Time{})
	assert.Zero(t, reads, "another practitioner's event changes nothing here")

	f.add(ps, "2029-03-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart2})
	v2, tag2, reads := read(today, time.Time{})
	assert.Positive(t, reads, "its own event: rendered afresh")
	assert.Equal(t, v.Revision+1, v2.Revision)
	assert.NotEqual(t, tag, tag2)

	f.add(OrganisationStream(org), "2029-03-01", &domain.LicenceGranted{LicenceID: "L-O", Kind: domain.LicenceOrganisational,
		ValidUntil: date("2030-03-01"), Decision: domain.Decision{DecidedBy: "Demo Panel", Rationale: "For the test.", Exception: true}})
	_, tag3, reads := read(today, time.Time{})
	assert.Positive(t, reads, "an organisation it names changed: rendered afresh")
	assert.NotEqual(t, tag2, tag3)

	_, _, reads = read(today.AddDays(1), time.Time{})
	assert.Positive(t, reads, "another date is another view")
	past := f.clock.Add(-time.Minute)
	_, _, reads = read(today, past)
	assert.Positive(t, reads)
	_, _, reads = read(today, past)
	assert.Zero(t, reads, "a past known_at asked again comes from the cache")
}

func lastPosition(t *testing.T, s eventstore.Store) eventstore.Position {
	t.Helper()
	var last eventstore.Position
	for e, err := range s.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		last = e.Position
	}
	return last
}

// TestViewCacheRefusesWhatWasForgottenMeanwhile: a view rendered from a
// read that began before its practitioner was forgotten is not kept; one
// of another practitioner is; and the cache keeps to its bound.
func TestViewCacheRefusesWhatWasForgottenMeanwhile(t *testing.T) {
	c := newViewCache(64 << 10)
	a, b := uuid.New(), uuid.New()
	k := viewKey{asOf: dayOf(date("2029-06-01"))}
	since := c.start()
	c.forget(a)
	c.put(a, k, []byte(`{"old":true}`), "t1", since)
	_, _, ok := c.get(a, k)
	assert.False(t, ok, "a was forgotten after the read began")
	c.put(b, k, []byte(`{}`), "t2", since)
	_, tag, ok := c.get(b, k)
	assert.True(t, ok, "b was not")
	assert.Equal(t, "t2", tag)

	since = c.start()
	for range len(c.recent) {
		c.forget(uuid.New())
	}
	c.put(b, viewKey{}, []byte(`{}`), "t3", since)
	_, _, ok = c.get(b, viewKey{})
	assert.False(t, ok, "too many forgets since to tell")

	body := make([]byte, 1000)
	for range 500 {
		c.put(uuid.New(), k, body, "t", c.start())
	}
	assert.LessOrEqual(t, c.bytes(), c.max)
	assert.Positive(t, c.bytes())
}
