package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// assertChain checks one stream's hash chain as read.
func assertChain(t *testing.T, stream string, evs []eventstore.RecordedEvent) {
	t.Helper()
	var prev eventstore.Hash
	for i, e := range evs {
		assert.Equal(t, prev, e.PrevHash, "%s revision %d: PrevHash is the previous event's Hash", stream, i)
		assert.False(t, e.Hash.IsZero(), "%s revision %d: Hash is set", stream, i)
		assert.Equal(t, eventstore.ComputeHash(eventstore.ChainFieldsOf(e)), e.Hash, "%s revision %d: Hash covers the event as read", stream, i)
		prev = e.Hash
	}
}

func testHashChain(t *testing.T, h harness) {
	t.Run("an empty store verifies", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		rep, err := eventstore.Verify(ctx, s)
		require.NoError(t, err)
		assert.Equal(t, eventstore.VerifyReport{OK: true}, rep)
	})

	t.Run("each stream chains its events", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		migrated := Event("PractitionerRegistered")
		migrated.RecordedAt = time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
		migrated.SchemaVersion = 3
		steps := []struct {
			stream string
			events []eventstore.EventData
		}{
			{"practitioner-a", []eventstore.EventData{migrated}},
			{"practitioner-a", newEvents(2, "CourseCompleted")},
			{"practitioner-b", newEvents(1, "PractitionerRegistered")},
			{"practitioner-a", newEvents(1, "CPDRecorded")},
			{"practitioner-b", newEvents(3, "CourseCompleted")},
			{"organisation-c", newEvents(1, "OrganisationRegistered")},
		}
		total := 0
		for _, st := range steps {
			mustAppend(t, ctx, s, st.stream, eventstore.Any(), st.events...)
			total += len(st.events)
		}

		for _, stream := range []string{"practitioner-a", "practitioner-b", "organisation-c"} {
			evs := readStream(t, ctx, s, stream)
			require.NotEmpty(t, evs)
			assert.True(t, evs[0].PrevHash.IsZero(), "%s: revision 0 chains to the zero hash", stream)
			assertChain(t, stream, evs)
		}
		hashes := map[eventstore.Hash]bool{}
		for _, e := range readAll(t, ctx, s, eventstore.Start) {
			assert.False(t, hashes[e.Hash], "hash of %s repeats another event's", e.ID)
			hashes[e.Hash] = true
		}

		rep, err := eventstore.Verify(ctx, s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "first failure: %+v", rep.FirstFailure)
		assert.Equal(t, total, rep.EventsChecked)
		assert.Nil(t, rep.FirstFailure)
	})
}
