package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
)

// TestReadStreamMatchesReadAll reads each stream of a store whose streams
// are appended in runs and interleaved, and checks it against the stream's
// events as ReadAll gives them.
func TestReadStreamMatchesReadAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 40)
	s := openAt(t, path, Options{}, nil)
	byStream := map[string][]eventstore.RecordedEvent{}
	for _, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], e)
	}
	for stream, want := range byStream {
		got, err := s.ReadStream(t.Context(), stream, eventstore.ReadOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, got, stream)
	}
}

// TestReadStreamMissingEventIsCorrupt removes the record a stream's index
// points at, between two records the stream reads in order, and after the
// last: ReadStream says the store is corrupt instead of reading past it.
func TestReadStreamMissingEventIsCorrupt(t *testing.T) {
	for _, victim := range []int{1, -1} {
		t.Run(fmt.Sprint(victim), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			all := fillStore(t, path, 12)
			stream := all[0].Stream
			var mine []eventstore.RecordedEvent
			for _, e := range all {
				if e.Stream == stream {
					mine = append(mine, e)
				}
			}
			gone := mine[(victim+len(mine))%len(mine)]
			db, err := bbolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketEvents).Delete(appendPositionKey(nil, gone.Position))
			}))
			require.NoError(t, db.Close())
			s := openAt(t, path, Options{}, nil)
			_, err = s.ReadStream(t.Context(), stream, eventstore.ReadOptions{})
			assert.ErrorIs(t, err, eventstore.ErrCorrupt)
		})
	}
}

func TestRecentStrings(t *testing.T) {
	var rs recentStrings
	var next uint8
	var recent [8]string
	a := rs.get(&recent, &next, []byte("CourseCompleted"))
	assert.Equal(t, "CourseCompleted", a)
	assert.Equal(t, "", rs.get(&recent, &next, nil))
	for i := range 20 { // more values than it keeps
		assert.Equal(t, fmt.Sprint("type-", i%11), rs.get(&recent, &next, fmt.Appendf(nil, "type-%d", i%11)))
	}
	assert.Equal(t, "CourseCompleted", rs.get(&recent, &next, []byte("CourseCompleted")))
}

// TestReadStreamOutlivesTheMapping reads a stream, then appends enough for
// bbolt to map the growing file afresh (unmapping the old mapping), and
// checks the events read before still hold their payloads: ReadStream must
// copy them out of the file's memory, which is valid only inside its
// transaction. Were they left there, reading them would fault or give
// other bytes.
func TestReadStreamOutlivesTheMapping(t *testing.T) {
	s, path := openTemp(t, Options{}, nil)
	evs := events(5)
	for i := range evs {
		evs[i].Data = fmt.Appendf(nil, `{"seq":%d}`, i)
		evs[i].Metadata = fmt.Appendf(nil, `{"note":"kept %d"}`, i)
	}
	_, err := s.Append(t.Context(), "practitioner-kept", eventstore.NoStream(), evs...)
	require.NoError(t, err)
	got, err := s.ReadStream(t.Context(), "practitioner-kept", eventstore.ReadOptions{})
	require.NoError(t, err)
	require.Len(t, got, len(evs))

	// bbolt maps a small file with 32 KiB and doubles the mapping as the
	// file outgrows it: by 2 MiB it has been unmapped and mapped again
	// several times.
	pad := fmt.Sprintf(`{"pad":"%0900d"}`, 0)
	for i := 0; fileSize(t, path) < 2<<20; i++ {
		more := events(8)
		for j := range more {
			more[j].Data = []byte(pad)
		}
		_, err := s.Append(t.Context(), fmt.Sprintf("practitioner-pad-%d", i%16), eventstore.Any(), more...)
		require.NoError(t, err)
	}
	for i, e := range got {
		assert.Equal(t, string(evs[i].Data), string(e.Data), "revision %d", i)
		assert.Equal(t, string(evs[i].Metadata), string(e.Metadata), "revision %d", i)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
