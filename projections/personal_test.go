package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/eventstore/keystore/keystoretest"
)

// Invented adult names; the test searches the data directory's bytes for them.
const (
	sealedName   = "Morwenna Sealedperson"
	sealedEmail  = "morwenna.sealed@example.org"
	legacyName   = "Tamsin Plainperson"
	legacyEmail  = "tamsin.plain@example.org"
	survivorName = "Jory Keepsname"
)

// sealedAdd appends ev to stream as the write path does: personal data
// sealed with keys first.
func (f *fixture) sealedAdd(keys *keystore.Keys, stream, occurred string, ev domain.Event) eventstore.RecordedEvent {
	f.t.Helper()
	e := f.event(occurred, ev)
	var err error
	e.Data, err = keys.Seal(stream, e.ID, e.Type, e.Data, domain.PersonalFields(e.Type))
	require.NoError(f.t, err)
	_, err = f.store.Append(f.ctx, stream, eventstore.Any(), e)
	require.NoError(f.t, err)
	events, err := f.store.ReadStream(f.ctx, stream, eventstore.ReadOptions{})
	require.NoError(f.t, err)
	return events[len(events)-1]
}

// TestErasure follows issue 14: a practitioner's name and email are sealed
// before they are stored; after erasure they read as erased in every view,
// list, history, rebuild and restart, their training record and level stay,
// and no file of the data directory holds them. A practitioner registered
// before sealing existed (plaintext in the store) reads as erased too, but
// their name stays in the old event's bytes: the test pins that limit.
func TestErasure(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	keys, err := keystore.Open(dir)
	require.NoError(t, err)
	f := newFixture(t, store)
	ctx := context.Background()

	sealed, legacy, survivor := uuid.New(), uuid.New(), uuid.New()
	f.sealedAdd(keys, PractitionerStream(sealed), "2024-01-10", &domain.PractitionerRegistered{Name: "Morwenna Oldname", Email: sealedEmail, Profession: domain.ProfessionEducation})
	f.sealedAdd(keys, PractitionerStream(sealed), "2024-01-11", &domain.PractitionerDetailsChanged{Name: new(sealedName)})
	f.add(PractitionerStream(legacy), "2024-01-10", &domain.PractitionerRegistered{Name: legacyName, Email: legacyEmail, Profession: domain.ProfessionHealth})
	f.sealedAdd(keys, PractitionerStream(survivor), "2024-01-10", &domain.PractitionerRegistered{Name: survivorName, Profession: domain.ProfessionHealth})
	for _, id := range []uuid.UUID{sealed, legacy, survivor} {
		for _, c := range []domain.Course{domain.CourseFoundationAPart1, domain.CourseFoundationAPart2, domain.CourseFoundationB} {
			f.add(PractitionerStream(id), "2024-02-01", &domain.CourseCompleted{Course: c})
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "events.db"))
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte("Morwenna")), "only ciphertext is stored")
	assert.True(t, bytes.Contains(raw, []byte(legacyName)), "the plaintext registration is in the store")

	snap := filepath.Join(dir, "projections.snapshot")
	open := func() (*Projector, func()) {
		p, err := New(store, Options{SnapshotPath: snap, Keys: keys})
		require.NoError(t, err)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx) }()
		return p, func() { cancel(); <-done }
	}
	p, stop := open()
	last := f.add(PractitionerStream(survivor), "2024-02-02", &domain.CourseCompleted{Course: domain.CourseAwareness})
	require.NoError(t, p.WaitFor(ctx, last.Position))
	today := date("2024-06-01")

	v, err := p.Practitioner(ctx, sealed, today, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, sealedName, v.Name, "opened with the key")
	hist, err := p.History(ctx, PractitionerStream(sealed), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "opened", hist[0].PersonalData)
	assert.NotContains(t, string(hist[0].Data), "Morwenna", "data is the stored ciphertext")
	assert.Contains(t, string(hist[1].OpenedData), sealedName)
	hist, err = p.History(ctx, PractitionerStream(legacy), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "plaintext", hist[0].PersonalData)
	require.NoError(t, p.Snapshot())
	assert.NotEmpty(t, keystoretest.FilesHolding(t, dir, sealedName), "before erasure the snapshot holds the name")

	// Erase both as the API does: the key first, then the event.
	for _, id := range []uuid.UUID{sealed, legacy} {
		require.NoError(t, keys.Erase(PractitionerStream(id), f.clock))
		last = f.add(PractitionerStream(id), "2024-03-01", &domain.PersonalDataErased{Reason: "Erasure requested by the practitioner."})
	}
	require.NoError(t, p.WaitFor(ctx, last.Position))
	// The models take the batch before its snapshot is written: wait for
	// the apply to finish (the API's erasure writes one itself too).
	p.applyMu.Lock()
	//lint:ignore SA2001 an empty critical section is the wait
	p.applyMu.Unlock()

	check := func(p *Projector, when string) {
		t.Helper()
		for _, id := range []uuid.UUID{sealed, legacy} {
			v, err := p.Practitioner(ctx, id, today, time.Time{})
			require.NoError(t, err, when)
			assert.Equal(t, domain.ErasedName, v.Name, when)
			assert.Equal(t, 1, v.Level, "%s: the training record stays", when)
			// As known before the erasure, too.
			v, err = p.Practitioner(ctx, id, today, time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC))
			require.NoError(t, err, when)
			assert.Equal(t, domain.ErasedName, v.Name, when)
			hist, err := p.History(ctx, PractitionerStream(id), time.Time{})
			require.NoError(t, err, when)
			b, err := json.Marshal(hist)
			require.NoError(t, err)
			for _, s := range []string{sealedName, "Morwenna", sealedEmail, legacyName, legacyEmail} {
				assert.NotContains(t, string(b), s, when)
			}
			assert.Equal(t, "erased", hist[0].PersonalData, when)
		}
		page, err := p.ListPractitioners(ctx, Filter{}, today)
		require.NoError(t, err, when)
		names := map[string]int{}
		for _, it := range page.Items {
			names[it.Name]++
		}
		assert.Equal(t, map[string]int{domain.ErasedName: 2, survivorName: 1}, names, when)
		for _, s := range []string{sealedName, "Morwenna", sealedEmail} {
			assert.Empty(t, keystoretest.FilesHolding(t, dir, s), "%s: %q is in a data file", when, s)
		}
		// The plaintext registration written before sealing existed stays
		// in the store's bytes, and nowhere else.
		assert.Equal(t, []string{"events.db"}, keystoretest.FilesHolding(t, dir, legacyName), when)
		assert.Equal(t, []string{"events.db"}, keystoretest.FilesHolding(t, dir, legacyEmail), when)
	}
	check(p, "after erasure")
	hist, err = p.History(ctx, PractitionerStream(legacy), time.Time{})
	require.NoError(t, err)
	assert.True(t, hist[0].DataRedacted, "erased plaintext is left out of the response")

	require.NoError(t, p.Rebuild(ctx, nil))
	check(p, "after a rebuild")
	stop()

	p, stop = open()
	defer stop()
	require.True(t, p.Loaded(), "restarted from the snapshot")
	check(p, "after a restart")

	rep, err := eventstore.Verify(ctx, store)
	require.NoError(t, err)
	assert.True(t, rep.OK, "every chain still verifies")
}

// TestSealedWithoutKeys: history imported without its key store reads its
// sealed names as unavailable.
func TestSealedWithoutKeys(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	keys, err := keystore.Open(dir)
	require.NoError(t, err)
	f := newFixture(t, store)
	id := uuid.New()
	f.sealedAdd(keys, PractitionerStream(id), "2024-01-10", &domain.PractitionerRegistered{Name: sealedName, Profession: domain.ProfessionEducation})
	v, err := NewViews(store).Practitioner(context.Background(), id, date("2024-06-01"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, domain.UnavailableName, v.Name)
	v, err = NewViewsWithKeys(store, keys).Practitioner(context.Background(), id, date("2024-06-01"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, sealedName, v.Name)
}
