package projections

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// TestCachedFactsChangeNothing runs a random history through projectors
// whose fact caches are large, tiny (entries dropped all the time) and off,
// and checks that the subscription-fed models equal a rebuild, and that
// views read through a cache kept across appends (extended event by
// event, retractions included) equal views read without one, as of several
// dates and as known at several times.
func TestCachedFactsChangeNothing(t *testing.T) {
	today := func() domain.Date { return date("2030-03-01") }
	for _, size := range []int{DefaultCachedFacts, 9, -1} {
		t.Run(fmt.Sprint("cache ", size), func(t *testing.T) {
			store := openStore(t, t.TempDir())
			f := newFixture(t, store)
			h := newRandomHistory(f, 7)
			p, err := New(store, Options{Today: today, CachedFacts: size})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			plain := newViews(store, -1, nil, nil)
			var knownAt []time.Time
			for round := range 6 {
				for range 25 {
					h.step()
				}
				knownAt = append(knownAt, f.clock.Add(-30*time.Second))
				require.NoError(t, p.WaitFor(ctx, h.last))
				for _, id := range h.pracs {
					for _, asOf := range []string{"2029-03-01", "2030-01-01", "2031-06-01"} {
						for _, k := range []time.Time{{}, knownAt[round/2], knownAt[round]} {
							want, werr := plain.Practitioner(ctx, id, date(asOf), k)
							got, gerr := p.Practitioner(ctx, id, date(asOf), k)
							require.Equal(t, werr, gerr)
							require.Equal(t, want, got, "practitioner %s as of %s known at %s", id, asOf, k)
						}
					}
					want, _, werr := plain.Facts(ctx, PractitionerStream(id), domain.Date{}, time.Time{})
					got, _, gerr := p.Facts(ctx, PractitionerStream(id), domain.Date{}, time.Time{})
					require.NoError(t, werr)
					require.NoError(t, gerr)
					require.Equal(t, want, got)
				}
			}
			fresh, err := New(store, Options{Today: today, CachedFacts: -1})
			require.NoError(t, err)
			require.NoError(t, fresh.Rebuild(context.Background(), nil))
			assert.Equal(t, canonical(fresh), canonical(p))
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			if p.cache != nil {
				assert.LessOrEqual(t, p.cache.n, size)
			}
		})
	}
}

// TestFactCacheTakesOnlyMatchingFacts checks the cache's own rules: a
// cached fact is used only for the event at its revision with its id and
// position, a shorter prefix never replaces a longer one, a batch that does
// not follow on from the cached prefix is not taken for the stream, and the
// cache stays within its bound.
func TestFactCacheTakesOnlyMatchingFacts(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	id := f.practitioner("Sam Example", "2029-01-10")
	ps := PractitionerStream(id)
	f.add(ps, "2029-02-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart1})
	v := newViews(store, 40, nil, nil)
	events, err := store.ReadStream(f.ctx, ps, eventstore.ReadOptions{})
	require.NoError(t, err)
	_, err = v.decode(ps, events, domain.Date{})
	require.NoError(t, err)
	require.Len(t, v.cache.get(ps, false).facts, 2)

	// The same revision with another id (another store, say) is decoded
	// afresh, not taken from the cache.
	other := events[1]
	other.ID = uuid.New()
	other.Type = domain.TypeCPDEngagementRecorded
	other.Data = []byte(`{"kind":"linked_cpd","hours":3}`)
	sf, err := v.decode(ps, []eventstore.RecordedEvent{events[0], other}, domain.Date{})
	require.NoError(t, err)
	assert.IsType(t, &domain.CPDEngagementRecorded{}, sf.facts[1].Event)
	assert.Equal(t, other.ID, sf.facts[1].ID)
	assert.Equal(t, events[1].ID, v.cache.get(ps, false).facts[1].ID, "an equal-length prefix replaces nothing")

	// A shorter prefix does not replace the longer one.
	_, err = v.decode(ps, events[:1], domain.Date{})
	require.NoError(t, err)
	assert.Len(t, v.cache.get(ps, false).facts, 2)

	// A batch with a gap after the cached prefix is not taken.
	e3 := f.add(ps, "2029-03-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart2})
	e4 := f.add(ps, "2029-04-01", &domain.CourseCompleted{Course: domain.CourseFoundationB})
	_, ok, err := v.extend(ps, []eventstore.RecordedEvent{e4})
	require.NoError(t, err)
	assert.False(t, ok)
	sf, ok, err = v.extend(ps, []eventstore.RecordedEvent{events[1], e3, e4})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, uint64(3), sf.revision)
	assert.Len(t, v.cache.get(ps, false).facts, 4)

	// The bound holds: streams beyond it push others out.
	for i := range 30 {
		s := fmt.Sprintf("practitioner-%d", i)
		facts := make([]domain.Fact, 1+i%8)
		v.cache.put(s, facts, make([]eventstore.Position, len(facts)), false)
		require.LessOrEqual(t, v.cache.n, 40)
	}
}

// TestFactCacheGrowsInPlaceWithoutTouchingWhatItPublished follows one
// stream event by event, as the subscription does: the cache's arrays are
// grown in place (no copy of the history per event), yet every streamFacts
// handed out before keeps exactly what it held, two callers growing from
// the same entry are never given the same elements, and readers of the
// cache meanwhile (under -race) never see an element being written.
func TestFactCacheGrowsInPlaceWithoutTouchingWhatItPublished(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	id := f.practitioner("Sam Example", "2029-01-10")
	ps := PractitionerStream(id)
	v := newViews(store, 1<<10, nil, nil)
	events, err := store.ReadStream(f.ctx, ps, eventstore.ReadOptions{})
	require.NoError(t, err)
	_, err = v.decode(ps, events, domain.Date{})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	readers := make(chan error, 2)
	for range 2 {
		go func() {
			for ctx.Err() == nil {
				s := v.cache.get(ps, false)
				for i, f := range s.facts {
					if f.ID == uuid.Nil || s.positions[i] == 0 {
						readers <- fmt.Errorf("revision %d of %d is not filled in", i, len(s.facts))
						return
					}
				}
			}
			readers <- nil
		}()
	}

	type held struct {
		sf        *streamFacts
		facts     []domain.Fact
		positions []eventstore.Position
	}
	var kept []held
	inPlace := 0
	for i := range 24 {
		e := f.add(ps, date("2029-02-01").AddDays(i).String(), &domain.CPDEngagementRecorded{Kind: domain.CPDLinkedCPD, Hours: 1})
		sf, ok, err := v.extend(ps, []eventstore.RecordedEvent{e})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, e.ID, sf.facts[len(sf.facts)-1].ID)
		require.Equal(t, e.Revision, sf.revision)
		if n := len(kept); n > 0 && &kept[n-1].sf.facts[0] == &sf.facts[0] {
			inPlace++
		}
		kept = append(kept, held{sf, slices.Clone(sf.facts), slices.Clone(sf.positions)})
	}
	cancel()
	for range 2 {
		require.NoError(t, <-readers)
	}
	for _, h := range kept {
		assert.Equal(t, h.facts, h.sf.facts, "a published prefix changed")
		assert.Equal(t, h.positions, h.sf.positions)
		assert.Equal(t, len(h.sf.facts), cap(h.sf.facts), "a reader's append could reach the cache's room")
	}
	assert.Positive(t, inPlace, "the arrays never grew in place")

	// Two growths of the same entry get different room: the second copies.
	s := v.cache.get(ps, false)
	n := len(s.facts)
	f1, _, w1 := v.cache.grow(ps, s, 1)
	f2, _, w2 := v.cache.grow(ps, s, 1)
	assert.NotSame(t, &f1[n], &f2[n])
	assert.NotSame(t, w1, w2)
	assert.Equal(t, s.facts, f2[:n])
}
