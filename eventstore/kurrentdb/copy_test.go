package kurrentdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// fill writes a small ledger into s: several streams, multi-event appends,
// migrated events with given recorded times, odd payloads.
func fill(t *testing.T, s eventstore.Store) {
	t.Helper()
	ctx := testCtx(t)
	base := time.Date(2019, 4, 1, 8, 30, 0, 123456789, time.UTC)
	for i := range 12 {
		stream := fmt.Sprintf("practitioner-%d", i%4)
		if i%5 == 0 {
			stream = "organisation-1"
		}
		evs := []eventstore.EventData{storetest.Event("CourseCompleted")}
		if i%3 == 0 {
			evs = append(evs, storetest.Event("CPDRecorded"))
		}
		if i < 4 {
			evs[0].RecordedAt = base.Add(time.Duration(i) * time.Hour)
			evs[0].SchemaVersion = 2
			evs[0].Metadata = []byte("{ \"imported\" : true }\n")
		}
		_, err := s.Append(ctx, stream, eventstore.Any(), evs...)
		require.NoError(t, err)
	}
}

func TestCopyKeepsEveryHash(t *testing.T) {
	src := openStore(t, protocoldouble.StartTest(t, withSystemEvents).ConnectionString(), kurrentdb.Options{})
	dst := openStore(t, protocoldouble.StartTest(t, withSystemEvents).ConnectionString(), kurrentdb.Options{})
	fill(t, src)
	ctx := testCtx(t)

	var calls []int
	n, err := eventstore.Copy(ctx, src, dst, nil, func(n int) { calls = append(calls, n) })
	require.NoError(t, err)
	want := storetest.ReadAll(t, src)
	got := storetest.ReadAll(t, dst)
	assert.Equal(t, len(want), n)
	require.NotEmpty(t, calls)
	assert.Equal(t, n, calls[len(calls)-1])
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		assert.Equal(t, w.Hash, g.Hash, "hash of %s", w.ID)
		w.Position = g.Position // positions are the target's own
		assert.Equal(t, w, g)
	}
	rep, err := eventstore.Verify(ctx, dst)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, len(want), rep.EventsChecked)

	// A second run after an interruption stores nothing twice.
	again, err := eventstore.Copy(ctx, src, dst, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, n, again)
	assert.Len(t, storetest.ReadAll(t, dst), len(want))
}

func TestCopyRefusesToMixIntoAStream(t *testing.T) {
	src := openStore(t, protocoldouble.StartTest(t, withSystemEvents).ConnectionString(), kurrentdb.Options{})
	dst := openStore(t, protocoldouble.StartTest(t, withSystemEvents).ConnectionString(), kurrentdb.Options{})
	fill(t, src)
	ctx := testCtx(t)
	_, err := dst.Append(ctx, "practitioner-1", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	require.NoError(t, err)
	_, err = eventstore.Copy(ctx, src, dst, nil, nil)
	assert.ErrorIs(t, err, eventstore.ErrRevisionConflict)
}
