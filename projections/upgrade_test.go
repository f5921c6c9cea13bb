package projections

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// TestUpgradeRebuildsModelsFoldedUnderOldRules: a data directory whose
// snapshot was folded under rulebook v1 is not served after an upgrade to
// v1.1; the projector says so and rebuilds. The practitioner is a suspended
// Informed Practitioner, good under v1 and suspended under v1.1 (DOMAIN.md:
// "Suspending or withdrawing any certified role (informed practitioner,
// link, senior link, …) or any practitioner-held licence makes standing").
func TestUpgradeRebuildsModelsFoldedUnderOldRules(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	f := newFixture(t, store)
	id := f.practitioner("Kit Example", "2029-01-05")
	ps := PractitionerStream(id)
	dec := domain.Decision{DecidedBy: "Dana Decider", Rationale: "as recorded on paper", Exception: true}
	f.add(ps, "2029-02-01", &domain.CertificationAwarded{Role: domain.RoleInformedPractitioner, Decision: dec})
	last := f.add(ps, "2029-03-01", &domain.CertificationSuspended{Role: domain.RoleInformedPractitioner, Reason: "under review", Decision: dec})

	path := filepath.Join(dir, "models.snapshot")
	today := func() domain.Date { return date("2029-04-01") }
	suspended := func(p *Projector) int {
		ctx := runProjector(t, p)
		require.NoError(t, p.WaitFor(ctx, last.Position))
		page, err := p.ListPractitioners(ctx, Filter{Standing: "suspended"}, today())
		require.NoError(t, err)
		return len(page.Items)
	}

	v1, ok := domain.RulebooksWithCurrent("v1")
	require.True(t, ok)
	old, err := New(store, Options{SnapshotPath: path, Today: today, Rulebooks: v1})
	require.NoError(t, err)
	require.NoError(t, old.Rebuild(context.Background(), nil))
	assert.Equal(t, 0, suspended(old), "v1: the suspended Informed Practitioner is in good standing")
	require.NoError(t, old.Snapshot())

	var notes []string
	logf := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	upgraded, err := New(store, Options{SnapshotPath: path, Today: today, Logf: logf})
	require.NoError(t, err)
	assert.False(t, upgraded.Loaded(), "models folded under v1 are not served")
	require.NotEmpty(t, notes)
	assert.True(t, strings.Contains(strings.Join(notes, "\n"), "rulebook v1;"), "the log says why: %v", notes)
	assert.Equal(t, 1, suspended(upgraded), "v1.1, after the rebuild")

	require.NoError(t, upgraded.Snapshot())
	again, err := New(store, Options{SnapshotPath: path, Today: today})
	require.NoError(t, err)
	assert.True(t, again.Loaded(), "the snapshot folded under v1.1 is used")
}
