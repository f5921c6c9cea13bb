package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/imattertraining/ledger/eventstore"
)

// fillStore writes a few streams of events to a new file at path and
// returns them in global order.
func fillStore(t *testing.T, path string, appends int) []eventstore.RecordedEvent {
	t.Helper()
	s, err := Open(path, Options{})
	require.NoError(t, err)
	ctx := t.Context()
	for i := range appends {
		evs := events(1 + i%3)
		for j := range evs {
			evs[j].Data = fmt.Appendf(nil, `{"seq":%d,"pad":"%0300d"}`, i*10+j, 0)
		}
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i%4), eventstore.Any(), evs...)
		require.NoError(t, err)
	}
	all := readAllOf(t, s)
	require.NoError(t, s.Close())
	return all
}

// rewriteRecord opens the bbolt file directly and lets fn change the record
// stored at pos, as someone editing the file behind the ledger's back would.
func rewriteRecord(t *testing.T, path string, pos eventstore.Position, fn func(rec []byte, r *rawRecord)) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		key := appendPositionKey(nil, pos)
		rec := append([]byte(nil), b.Get(key)...)
		var r rawRecord
		if err := parseRecord(pos, rec, &r); err != nil {
			return err
		}
		fn(rec, &r)
		return b.Put(key, rec)
	}))
}

// offsetOf returns where field (a sub-slice of rec) starts in rec.
func offsetOf(rec, field []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(field))) - uintptr(unsafe.Pointer(unsafe.SliceData(rec))))
}

func TestTamperingIsNamedByVerify(t *testing.T) {
	cases := []struct {
		name   string
		target int // index in global order of the event to damage
		change func(rec []byte, r *rawRecord)
		reason string
	}{
		{"a byte of the data", 5, func(rec []byte, r *rawRecord) { rec[offsetOf(rec, r.data)+3] ^= 0x01 }, "hash does not match"},
		{"the last byte of the data", 0, func(rec []byte, r *rawRecord) { rec[offsetOf(rec, r.data)+len(r.data)-1] ^= 0x80 }, "hash does not match"},
		{"a byte of the metadata", 9, func(rec []byte, r *rawRecord) { rec[offsetOf(rec, r.metadata)] ^= 0x20 }, "hash does not match"},
		{"a byte of the stored hash", 7, func(rec []byte, _ *rawRecord) { rec[offHash+10] ^= 0x01 }, "hash does not match"},
		{"a byte of the stored hash of a stream's last event", 11, func(rec []byte, _ *rawRecord) { rec[offHash] ^= 0xff }, "hash does not match"},
		{"a byte of prev_hash", 8, func(rec []byte, _ *rawRecord) { rec[offPrevHash+31] ^= 0x01 }, "prev_hash"},
		{"the recorded time", 4, func(rec []byte, _ *rawRecord) { rec[offRecordedAt+7]++ }, "hash does not match"},
		{"a letter of the type", 6, func(rec []byte, r *rawRecord) { rec[offsetOf(rec, r.typ)] = 'X' }, "hash does not match"},
		{"the schema version", 3, func(rec []byte, _ *rawRecord) { rec[offSchema+1]++ }, "hash does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			all := fillStore(t, path, 8)
			require.Greater(t, len(all), 11)
			victim := all[tc.target]
			if tc.target == 11 {
				// The case is about a stream's last event: check it is one.
				for _, e := range all[12:] {
					require.NotEqual(t, victim.Stream, e.Stream)
				}
			}
			rewriteRecord(t, path, victim.Position, tc.change)

			s := openAt(t, path, Options{}, nil)
			rep, err := eventstore.Verify(t.Context(), s)
			require.NoError(t, err)
			assert.False(t, rep.OK)
			require.NotNil(t, rep.FirstFailure)
			assert.Equal(t, victim.Stream, rep.FirstFailure.Stream)
			assert.Equal(t, victim.Revision, rep.FirstFailure.Revision)
			assert.Equal(t, victim.ID, rep.FirstFailure.EventID)
			assert.Equal(t, victim.Position, rep.FirstFailure.Position)
			assert.Contains(t, rep.FirstFailure.Reason, tc.reason)
			assert.Equal(t, tc.target, rep.EventsChecked, "every event before it verified")
		})
	}
}

func TestMalformedRecordIsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	all := fillStore(t, path, 4)
	victim := all[2]
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		key := appendPositionKey(nil, victim.Position)
		rec := append([]byte(nil), b.Get(key)...)
		return b.Put(key, rec[:len(rec)-1])
	}))
	require.NoError(t, db.Close())

	s := openAt(t, path, Options{}, nil)
	ctx := t.Context()
	var n int
	var readErr error
	for _, err := range s.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			readErr = err
			break
		}
		n++
	}
	assert.ErrorIs(t, readErr, eventstore.ErrCorrupt)
	_, err = s.ReadStream(ctx, victim.Stream, eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	_, err = eventstore.Verify(ctx, s)
	assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	other := all[0]
	require.NotEqual(t, victim.Stream, other.Stream)
	_, err = s.ReadStream(ctx, other.Stream, eventstore.ReadOptions{})
	assert.NoError(t, err, "other streams still read")
}

func TestNotABoltFile(t *testing.T) {
	cases := []struct {
		name    string
		content []byte
	}{
		{"text", []byte("this is not a database, it is a note about Test Practitioner\n")},
		{"zeros", make([]byte, 64<<10)},
		{"random", func() []byte {
			b := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))
			s, err := Open(path, Options{})
			if s != nil {
				_ = s.Close()
			}
			assert.ErrorIs(t, err, eventstore.ErrCorrupt)
		})
	}
}

func TestFailedOpenReleasesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	fillStore(t, path, 20)
	kinds := pageKinds(t, path)
	freelist := -1
	for id, k := range kinds {
		if k == "freelist" {
			freelist = id
		}
	}
	require.GreaterOrEqual(t, freelist, 0, "no freelist page in %v", kinds)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0xa5}, os.Getpagesize()), int64(freelist*os.Getpagesize()))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	for i := range 2 {
		s, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
		if s != nil {
			_ = s.Close()
		}
		require.Error(t, err, "open %d", i)
		assert.ErrorIs(t, err, eventstore.ErrCorrupt, "open %d", i)
		assert.NotErrorIs(t, err, berrors.ErrTimeout, "open %d: the first failed open kept the lock", i)
	}
}

// TestGarbageOverAPage writes random bytes over each page of a store in
// turn and uses the store: every call must return (an error or a result),
// never panic or crash the process, and garbage over a page in use must
// show up as an error or a failed verification.
func TestGarbageOverAPage(t *testing.T) {
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	fillStore(t, pristine, 60)
	kinds := pageKinds(t, pristine)
	original, err := os.ReadFile(pristine)
	require.NoError(t, err)
	pageSize := os.Getpagesize()
	require.LessOrEqual(t, len(kinds)*pageSize, len(original))
	for len(kinds)*pageSize < len(original) {
		// bbolt grows the file ahead of its high-water mark.
		kinds = append(kinds, "unallocated")
	}

	// bbolt checks that a page names itself; garbage that keeps the page's
	// 16-byte header gets past that check to the elements.
	modes := []struct {
		name string
		from int
	}{{"whole page", 0}, {"page body", 16}}
	for _, mode := range modes {
		for id, kind := range kinds {
			t.Run(fmt.Sprintf("%s %d (%s)", mode.name, id, kind), func(t *testing.T) {
				damageAndUse(t, original, id, mode.from, kind)
			})
		}
	}
}

// damageAndUse writes random bytes over page id of a copy of original,
// from byte from of the page on, and uses the copy as a store.
func damageAndUse(t *testing.T, original []byte, id, from int, kind string) {
	t.Helper()
	pageSize := os.Getpagesize()
	damaged := append([]byte(nil), original...)
	r := rand.New(rand.NewPCG(uint64(id), 7))
	for i := id*pageSize + from; i < (id+1)*pageSize; i++ {
		damaged[i] = byte(r.Uint32())
	}
	path := filepath.Join(t.TempDir(), "events.db")
	require.NoError(t, os.WriteFile(path, damaged, 0o600))

	noticed := useDamagedStore(t, path, Options{LockTimeout: -1})
	switch kind {
	case "free", "unallocated", "meta", "freelist":
		// bbolt keeps two meta pages and falls back to the other; free
		// pages hold nothing; a damaged freelist shows only when the
		// writer allocates from it (see the caveats in doc.go).
	default:
		assert.True(t, noticed, "garbage over a %s page went unnoticed", kind)
	}
}

// useDamagedStore opens the store at path and uses every operation,
// reporting whether any of them noticed damage. Open may fail as it likes;
// a read that fails must say the store is corrupt.
func useDamagedStore(t *testing.T, path string, opts Options) (noticed bool) {
	t.Helper()
	ctx := t.Context()
	s, err := Open(path, opts)
	if err != nil {
		return true
	}
	defer func() {
		if err := s.Close(); err != nil {
			noticed = true
		}
	}()
	note := func(what string, err error) {
		if err != nil {
			noticed = true
			assert.ErrorIs(t, err, eventstore.ErrCorrupt, "%s", what)
		}
	}
	streams := map[string]bool{}
	for e, err := range s.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			note("ReadAll", err)
			break
		}
		streams[e.Stream] = true
	}
	for i := range 4 {
		stream := fmt.Sprintf("practitioner-%d", i)
		_, err := s.ReadStream(ctx, stream, eventstore.ReadOptions{})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			noticed = true
			continue
		}
		note("ReadStream", err)
	}
	rep, err := eventstore.Verify(ctx, s)
	note("Verify", err)
	if err == nil && (!rep.OK || rep.EventsChecked != 120) {
		noticed = true
	}
	subCtx, cancel := context.WithCancel(ctx)
	err = s.Subscribe(subCtx, eventstore.Start, func(eventstore.RecordedEvent) error {
		return errStopSub
	})
	cancel()
	if !errors.Is(err, errStopSub) {
		note("Subscribe", err)
	}
	for i := range 5 {
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i), eventstore.Any(), events(2)...)
		if err != nil && !errors.Is(err, eventstore.ErrInvalidEvent) {
			// A corrupt index can make a new event look like a retry or
			// a conflict; any answer is fine as long as it is an answer.
			noticed = true
		}
	}
	return noticed
}

var errStopSub = errors.New("stop")

// pageKinds returns the type of every page of the bbolt file at path.
func pageKinds(t *testing.T, path string) []string {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	require.NoError(t, err)
	defer db.Close()
	var kinds []string
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		for id := 0; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				return nil
			}
			kinds = append(kinds, info.Type)
			for range info.OverflowCount {
				kinds = append(kinds, info.Type+" overflow")
				id++
			}
		}
	}))
	return kinds
}
