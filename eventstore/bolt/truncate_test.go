package bolt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
)

// TestStoreCutShort: a store whose events were cut short fails
// verification naming what is missing, and says it is damaged; a file cut
// short is refused at open, naming the bytes missing.
func TestStoreCutShort(t *testing.T) {
	t.Run("the last event removed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		all := fillStore(t, path, 30)
		last := all[len(all)-1]
		deleteRecord(t, path, last.Position)

		s := openAt(t, path, Options{}, nil)
		rep, err := eventstore.Verify(t.Context(), s)
		require.NoError(t, err)
		assert.False(t, rep.OK, "every remaining chain verifies, but the store is short of its last event")
		require.NotNil(t, rep.FirstFailure)
		assert.Equal(t, last.Position, rep.FirstFailure.Position)
		t.Log(rep.FirstFailure.Reason)
		assert.Contains(t, rep.FirstFailure.Reason, "records position")
		assert.Contains(t, rep.FirstFailure.Reason, "missing")
		assert.Equal(t, len(all)-1, rep.EventsChecked)
		require.Error(t, s.Damage())
		assert.ErrorIs(t, s.Damage(), eventstore.ErrCorrupt)
		assert.NotContains(t, s.Damage().Error(), last.Stream, "health may show it: no stream named")
	})
	t.Run("a stream's last event removed from the middle", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		all := fillStore(t, path, 30)
		// The last event of a stream that is not the store's last.
		victim := -1
		for i := len(all) - 2; i >= 0 && victim < 0; i-- {
			later := false
			for _, e := range all[i+1:] {
				later = later || e.Stream == all[i].Stream
			}
			if !later {
				victim = i
			}
		}
		require.GreaterOrEqual(t, victim, 0)
		deleteRecord(t, path, all[victim].Position)

		s := openAt(t, path, Options{}, nil)
		rep, err := eventstore.Verify(t.Context(), s)
		require.NoError(t, err)
		assert.False(t, rep.OK)
		require.NotNil(t, rep.FirstFailure)
		t.Log(rep.FirstFailure.Reason)
		assert.Contains(t, rep.FirstFailure.Reason, "damaged")
		assert.Contains(t, rep.FirstFailure.Reason, "missing")
		assert.Error(t, s.Damage())
	})
	t.Run("the file truncated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		fillStore(t, path, 200)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, st.Size()/2))
		s, err := Open(path, Options{LockTimeout: -1})
		if s != nil {
			_ = s.Close()
		}
		require.ErrorIs(t, err, eventstore.ErrCorrupt)
		t.Log(err)
		assert.Contains(t, err.Error(), "cut short")
		assert.Contains(t, err.Error(), "are missing")
	})
	t.Run("only the file's unused tail truncated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		all := fillStore(t, path, 200)
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
		require.NoError(t, err)
		var used int64
		require.NoError(t, db.View(func(tx *bbolt.Tx) error { used = tx.Size(); return nil }))
		require.NoError(t, db.Close())
		st, err := os.Stat(path)
		require.NoError(t, err)
		if st.Size() <= used {
			t.Skip("bbolt grew the file no further than its pages")
		}
		require.NoError(t, os.Truncate(path, used))

		s := openAt(t, path, Options{}, nil)
		rep, err := eventstore.Verify(t.Context(), s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "%+v", rep.FirstFailure)
		assert.Equal(t, len(all), rep.EventsChecked)
		assert.NoError(t, s.Damage())
	})
}

// TestAccountOfAHealthyStore: the store's account of itself matches its
// events, and a store appended to after the account was taken still
// verifies.
func TestAccountOfAHealthyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 12)
	s := openAt(t, path, Options{}, nil)
	h, err := s.Account(t.Context())
	require.NoError(t, err)
	assert.Equal(t, all[len(all)-1].Position, h.Last)
	assert.NoError(t, h.Damage)
	assert.NoError(t, s.Damage())
	for _, e := range all {
		head, ok := h.Streams[e.Stream]
		require.True(t, ok, e.Stream)
		if head.Revision == e.Revision {
			assert.Equal(t, e.Hash, head.Hash)
		}
	}
	_, err = s.Append(t.Context(), "practitioner-9", eventstore.Any(), events(2)...)
	require.NoError(t, err)
	rep, err := eventstore.Verify(t.Context(), s)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, len(all)+2, rep.EventsChecked)
}
