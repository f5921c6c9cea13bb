package projections

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// TestSingleEventBatchesMatchRebuild feeds a random history to the models
// one event per batch, as the subscription does under HTTP appends (each
// re-fold extends the stream's cached facts in place), and checks that
// after every stretch of it the models equal models rebuilt from scratch:
// summaries, organisations, decisions, reviews and the indexes the lists
// and date changes use. The history has back-dated facts (every event's
// date is drawn at random), retractions (of retractions too), decisions,
// reviews and organisation changes; a practitioner's personal data is
// erased part-way (their cached facts hold the name), the models' date
// rolls over later, and fact caches from roomy to tiny (entries dropped
// all the time) and states kept folded from roomy to tiny are tried.
func TestSingleEventBatchesMatchRebuild(t *testing.T) {
	for _, c := range []struct {
		seed        uint64
		cache, kept int
		today       string // facts fall up to 2030-12-01: some after it, or none
	}{
		{1, DefaultCachedFacts, keptFoldFacts, "2029-09-01"},
		{2, DefaultCachedFacts, keptFoldFacts, "2031-01-01"},
		{3, DefaultCachedFacts, 80, "2031-01-01"},
		{4, 40, keptFoldFacts, "2029-09-01"},
	} {
		t.Run(fmt.Sprintf("seed %d cache %d kept %d today %s", c.seed, c.cache, c.kept, c.today), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			store := openStore(t, dir)
			keys, err := keystore.Open(dir)
			require.NoError(t, err)
			f := newFixture(t, store)
			h := newRandomHistory(f, c.seed)
			for range 30 {
				h.step()
			}
			today := date(c.today)
			p, err := New(store, Options{Today: func() domain.Date { return today }, CachedFacts: c.cache, Keys: keys})
			require.NoError(t, err)
			require.NoError(t, p.Rebuild(ctx, nil))
			p.scratch.kept = newKeptFolds(c.kept)
			for stretch := range 8 {
				for range 40 {
					h.step()
				}
				if stretch == 2 { // erased as the API does: the key, then the event
					erased := PractitionerStream(h.pracs[0])
					require.NoError(t, keys.Erase(erased, f.clock))
					h.put(erased, &domain.PersonalDataErased{Reason: "Erasure requested by the practitioner."})
				}
				for e, err := range store.ReadAll(ctx, p.Checkpoint()) {
					require.NoError(t, err)
					require.NoError(t, p.applyBatch(ctx, []eventstore.RecordedEvent{e}))
				}
				require.Equal(t, h.last, p.Checkpoint())
				if stretch == 4 { // the date rolls over: due summaries are re-folded
					today = today.AddDays(300)
					require.NoError(t, p.advance(ctx, p.cur.Load(), dayOf(today)))
				}
				fresh, err := New(store, Options{Today: func() domain.Date { return today }, CachedFacts: -1, Keys: keys})
				require.NoError(t, err)
				require.NoError(t, fresh.Rebuild(ctx, nil))
				want, got := canonical(fresh), canonical(p)
				require.NotEmpty(t, want.Practitioners)
				require.Equal(t, want, got, "after stretch %d", stretch)
				require.Equal(t, indexesOf(fresh), indexesOf(p), "after stretch %d", stretch)
				checkKeptFolds(t, p, newViews(store, -1, keys, nil), today)
			}
			got := canonical(p)
			assert.Equal(t, domain.ErasedName, p.cur.Load().practitioners[h.pracs[0]].Name)
			assert.NotEmpty(t, got.Decisions)
			assert.NotEmpty(t, got.Reviews)
			retractions := 0
			for e, err := range store.ReadAll(ctx, eventstore.Start) {
				require.NoError(t, err)
				if e.Type == domain.TypeEventRetracted {
					retractions++
				}
			}
			assert.Positive(t, retractions, "the history retracts something")
			assert.Positive(t, p.scratch.kept.hits, "no kept state was brought forward")
			assert.LessOrEqual(t, p.scratch.kept.n, c.kept)
		})
	}
}

// modelIndexes are the indexes a models keeps beside its records.
type modelIndexes struct {
	Order    []uuid.UUID
	Due      map[day]map[uuid.UUID]struct{}
	Refs     map[uuid.UUID]map[uuid.UUID]struct{}
	ByStream map[string]streamRecs
	Reviewed map[uuid.UUID]int // decision -> how many reviews hang on it
}

func indexesOf(p *Projector) modelIndexes {
	m := p.cur.Load()
	m.mu.RLock()
	defer m.mu.RUnlock()
	ix := modelIndexes{Order: append([]uuid.UUID(nil), m.order...), Due: map[day]map[uuid.UUID]struct{}{},
		Refs: map[uuid.UUID]map[uuid.UUID]struct{}{}, ByStream: maps.Clone(m.byStream), Reviewed: map[uuid.UUID]int{}}
	for d, b := range m.due {
		ix.Due[d] = maps.Clone(b)
	}
	for o, b := range m.refs {
		ix.Refs[o] = maps.Clone(b)
	}
	for d, rs := range m.reviews {
		ix.Reviewed[d] = len(rs)
	}
	return ix
}

// checkKeptFolds checks every state p keeps folded against a fresh fold of
// as many of its stream's facts, read and decoded anew: they must evaluate
// alike (level, standing with every requirement and its evidence, next
// steps, listings, licences, roles, memberships, details) on several dates.
func checkKeptFolds(t *testing.T, p *Projector, plain *Views, today domain.Date) {
	t.Helper()
	ctx := context.Background()
	for stream, k := range p.scratch.kept.states {
		_, id, ok := streamKind(stream)
		require.True(t, ok)
		facts, _, err := plain.Facts(ctx, stream, domain.Date{}, time.Time{})
		require.NoError(t, err)
		require.LessOrEqual(t, k.n, len(facts))
		want, err := domain.Fold(id, facts[:k.n])
		require.NoError(t, err)
		for _, on := range []domain.Date{today.AddDays(-200), today, today.AddDays(400)} {
			require.Equal(t, observedState(p.rules.rb, want, p.Organisations(), on), observedState(p.rules.rb, k.p, p.Organisations(), on),
				"%s kept with %d facts, on %s", stream, k.n, on)
		}
	}
}

// observedState is what the rules read of a folded practitioner on a date.
func observedState(rb *domain.Rulebook, p *domain.Practitioner, orgs domain.Organisations, on domain.Date) string {
	st := rb.Standing(p, orgs, on)
	return fmt.Sprintf("level %+v\nstanding %+v\nnext %+v\nlistings %v\nlicences %+v\nroles %v %v\nmembers %+v\ndetails %+v",
		rb.Level(p, on), st, rb.NextSteps(p, orgs, on), rb.Listings(p, st.Status, on), p.Licences(on),
		p.RolesHeld(on), p.Traineeships(on), p.Memberships(on), p.DetailsOn(on))
}
