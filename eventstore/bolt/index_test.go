package bolt

import (
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// TestReopenRebuildsTheIndex checks that what the in-memory index answers
// survives a restart: stream reads, expected revisions, retries by event id
// and their mismatches.
func TestReopenRebuildsTheIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := t.Context()
	s, err := Open(path, Options{})
	require.NoError(t, err)
	first := events(3)
	firstRes, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), first...)
	require.NoError(t, err)
	_, err = s.Append(ctx, "practitioner-2", eventstore.NoStream(), events(2)...)
	require.NoError(t, err)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Exact(2), events(1)...)
	require.NoError(t, err)
	before := map[string][]eventstore.RecordedEvent{}
	for _, name := range []string{"practitioner-1", "practitioner-2"} {
		before[name], err = s.ReadStream(ctx, name, eventstore.ReadOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s = openAt(t, path, Options{}, nil)
	for name, want := range before {
		got, err := s.ReadStream(ctx, name, eventstore.ReadOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
	upTo := uint64(1)
	got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{UpToRevision: &upTo})
	require.NoError(t, err)
	assert.Equal(t, before["practitioner-1"][:2], got)
	_, err = s.ReadStream(ctx, "practitioner-3", eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)

	res, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), first...)
	require.NoError(t, err, "a retry across a restart is still a retry")
	assert.Equal(t, firstRes, res)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Any(), first[0], first[2])
	assert.ErrorIs(t, err, eventstore.ErrIdempotencyMismatch)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Exact(2), events(1)...)
	assert.ErrorIs(t, err, eventstore.ErrRevisionConflict, "the stream's revision survives")
	res, err = s.Append(ctx, "practitioner-2", eventstore.Exact(1), first[0])
	require.NoError(t, err, "the same id in another stream is a new event")
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 2, LastRevision: 2, FirstPosition: 7, LastPosition: 7}, res)

	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK, "the chains continue from the rebuilt tips")
}

// TestFormat2IsUpgraded opens a file laid out as format 2 (with its on-disk
// stream index) and checks that it is read, that the old index is gone and
// that appends continue.
func TestFormat2IsUpgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 6)
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		streams, err := tx.CreateBucket(bucketStreamsV2)
		if err != nil {
			return err
		}
		if err := streams.Put([]byte("stale index key"), []byte("stale")); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(metaLastPos); err != nil {
			return err
		}
		return meta.Put(metaFormat, binary.BigEndian.AppendUint32(nil, fileFormatV2))
	}))
	require.NoError(t, db.Close())

	s := openAt(t, path, Options{}, nil)
	got, err := s.ReadStream(t.Context(), all[0].Stream, eventstore.ReadOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, got)
	res, err := s.Append(t.Context(), all[0].Stream, eventstore.Exact(uint64(len(got)-1)), events(1)...)
	require.NoError(t, err)
	assert.Equal(t, eventstore.Position(len(all)+1), res.FirstPosition)
	require.NoError(t, s.Close())

	db, err = bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		assert.Nil(t, tx.Bucket(bucketStreamsV2), "the old index is deleted")
		meta := tx.Bucket(bucketMeta)
		assert.Equal(t, fileFormat, binary.BigEndian.Uint32(meta.Get(metaFormat)))
		assert.Equal(t, appendPositionKey(nil, res.LastPosition), meta.Get(metaLastPos))
		return nil
	}))
}

// deleteRecord removes the record at pos behind the store's back.
func deleteRecord(t *testing.T, path string, pos eventstore.Position) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEvents).Delete(appendPositionKey(nil, pos))
	}))
	require.NoError(t, db.Close())
}

// TestEventsMissingFromTheEndAreNoticed deletes the last event stored: no
// stream's own records show it is gone, so the index refuses every stream
// read and every append rather than answer from a stream that may miss it.
func TestEventsMissingFromTheEndAreNoticed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 8)
	deleteRecord(t, path, all[len(all)-1].Position)

	s := openAt(t, path, Options{}, nil)
	for _, name := range []string{all[0].Stream, all[len(all)-1].Stream} {
		_, err := s.ReadStream(t.Context(), name, eventstore.ReadOptions{})
		assert.ErrorIs(t, err, eventstore.ErrCorrupt)
		assert.ErrorContains(t, err, "missing from the end")
		_, err = s.Append(t.Context(), name, eventstore.Any(), events(1)...)
		assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	}
}

// TestMissingPositionsAreNoticed deletes an event from the middle of the
// global order.
func TestMissingPositionsAreNoticed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 8)
	deleteRecord(t, path, all[3].Position)

	s := openAt(t, path, Options{}, nil)
	_, err := s.ReadStream(t.Context(), all[0].Stream, eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	assert.ErrorContains(t, err, "positions 4 to 4 are missing")
}

// TestRevisionOutOfPlaceDamagesOnlyItsStream rewrites one event's revision:
// the index refuses that stream and serves the others.
func TestRevisionOutOfPlaceDamagesOnlyItsStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 8)
	victim := all[2]
	require.NotZero(t, victim.Revision)
	rewriteRecord(t, path, victim.Position, func(rec []byte, _ *rawRecord) {
		binary.BigEndian.PutUint64(rec[offRevision:], victim.Revision+5)
	})

	s := openAt(t, path, Options{}, nil)
	ctx := t.Context()
	_, err := s.ReadStream(ctx, victim.Stream, eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	assert.ErrorContains(t, err, victim.Stream)
	_, err = s.Append(ctx, victim.Stream, eventstore.Any(), events(1)...)
	assert.ErrorIs(t, err, eventstore.ErrCorrupt, "no event is chained to a damaged stream")

	other := all[0].Stream
	require.NotEqual(t, victim.Stream, other)
	_, err = s.ReadStream(ctx, other, eventstore.ReadOptions{})
	assert.NoError(t, err)
	_, err = s.Append(ctx, other, eventstore.Any(), events(1)...)
	assert.NoError(t, err)
}

// TestStreamReadWaitsForTheIndex holds the writer between a commit and the
// index taking it: the event is then visible to ReadAll (and so to a
// subscriber), and a read of its stream must wait and find it rather than
// say the stream does not exist.
func TestStreamReadWaitsForTheIndex(t *testing.T) {
	committed, proceed := make(chan struct{}), make(chan struct{})
	hold := true
	s, _ := openTemp(t, Options{}, &testHooks{afterCommit: func() {
		if hold {
			hold = false
			close(committed)
			<-proceed
		}
	}})
	var release sync.Once
	defer release.Do(func() { close(proceed) }) // let the writer go, pass or fail
	ctx := t.Context()
	e := storetest.Event("PractitionerRegistered")
	appended := appendAsync(ctx, s, "practitioner-x", eventstore.NoStream(), e)
	<-committed
	all := readAllOf(t, s)
	require.Len(t, all, 1, "the commit is visible to ReadAll")

	read := make(chan outcome, 1)
	var got []eventstore.RecordedEvent
	go func() {
		var err error
		got, err = s.ReadStream(ctx, "practitioner-x", eventstore.ReadOptions{})
		read <- outcome{err: err}
	}()
	select {
	case o := <-read:
		t.Fatalf("the stream read answered before the index held the commit: %v", o.err)
	case <-time.After(50 * time.Millisecond):
	}
	release.Do(func() { close(proceed) })
	require.NoError(t, (<-read).err)
	require.Len(t, got, 1)
	assert.Equal(t, e.ID, got[0].ID)
	require.NoError(t, (<-appended).err)
}
