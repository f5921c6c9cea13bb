package projections

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// TestRebuildAcrossChunks checks a rebuild over several of its read chunks,
// with streams whose events lie together (multi-event appends, some across
// a chunk boundary) and streams whose events are spread out, against the
// subscription-fed models.
func TestRebuildAcrossChunks(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	h := newRandomHistory(f, 7)
	today := func() domain.Date { return date("2030-03-01") }
	live, err := New(store, Options{Today: today})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()

	for h.last < 3000 {
		if h.rng.IntN(3) > 0 || len(h.pracs) == 0 {
			h.step()
			continue
		}
		id := h.pracs[h.rng.IntN(len(h.pracs))]
		batch := make([]eventstore.EventData, 1+h.rng.IntN(40))
		for i := range batch {
			batch[i] = f.event(h.day(), &domain.CPDEngagementRecorded{Kind: domain.CPDLinkedCPD, Hours: 1})
		}
		res, err := store.Append(f.ctx, PractitionerStream(id), eventstore.Any(), batch...)
		require.NoError(t, err)
		h.last = res.LastPosition
	}
	require.NoError(t, live.WaitFor(ctx, h.last))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	fresh, err := New(store, Options{Today: today})
	require.NoError(t, err)
	require.NoError(t, fresh.Rebuild(context.Background(), nil))
	want, got := canonical(fresh), canonical(live)
	require.NotEmpty(t, want.Practitioners)
	assert.Equal(t, want, got)
}

// TestRebuildFoldError checks that a practitioner stream the domain cannot
// fold fails the rebuild, wherever it lies among many, and leaves the
// served models as they were.
func TestRebuildFoldError(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	for i := range 600 {
		f.practitioner(fmt.Sprintf("Practitioner %d", i), "2029-01-01")
		if i == 450 {
			// An organisation's event in a practitioner's stream.
			f.add(PractitionerStream(uuid.New()), "2029-01-01", &domain.OrganisationRegistered{Name: "Misfiled School", Kind: domain.OrgSchool})
		}
	}
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") }})
	require.NoError(t, err)
	require.Error(t, p.Rebuild(context.Background(), nil))
	assert.Nil(t, p.cur.Load())
}
