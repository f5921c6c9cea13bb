package checkpoint_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)

func openStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newStore(t *testing.T) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	return openStore(t, path), path
}

// appendN appends n events to stream, one append each.
func appendN(t *testing.T, s eventstore.Store, stream string, n int) {
	t.Helper()
	for range n {
		_, err := s.Append(t.Context(), stream, eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01",
			RecordedBy: "admin:Test Administrator", Data: []byte(`{"course":"foundation_b"}`),
		})
		require.NoError(t, err)
	}
}

// history fills s with three streams of 3, 2 and 4 events.
func history(t *testing.T, s eventstore.Store) {
	appendN(t, s, "practitioner-a", 3)
	appendN(t, s, "practitioner-b", 2)
	appendN(t, s, "organisation-c", 4)
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// rewrite copies every event of from into a new store, applying change to
// each first, with its recorded time kept: the new store computes every
// hash afresh, so its chains verify, as a forger who rehashed would make
// them.
func rewrite(t *testing.T, from eventstore.Store, change func(*eventstore.RecordedEvent) bool) *bolt.Store {
	t.Helper()
	to, _ := newStore(t)
	for e, err := range from.ReadAll(t.Context(), eventstore.Start) {
		require.NoError(t, err)
		if change != nil && !change(&e) {
			continue
		}
		_, err := to.Append(t.Context(), e.Stream, eventstore.Any(), eventstore.EventData{
			ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, OccurredOn: e.OccurredOn,
			RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt, Data: e.Data, Metadata: e.Metadata,
		})
		require.NoError(t, err)
	}
	return to
}

func TestTakeAndOpen(t *testing.T) {
	s, _ := newStore(t)
	history(t, s)
	key := newKey(t)
	c, err := checkpoint.Take(t.Context(), s, key, now)
	require.NoError(t, err)
	st := c.Statement
	assert.Equal(t, checkpoint.Format, st.Format)
	assert.Equal(t, checkpoint.KeyID(pub(key)), st.KeyID)
	assert.Equal(t, now, st.TakenAt)
	assert.Equal(t, eventstore.Position(9), st.Position)
	assert.Equal(t, uint64(9), st.Events)
	assert.Equal(t, uint64(3), st.Streams)
	require.Len(t, c.Heads, 3)
	streams := []string{c.Heads[0].Stream, c.Heads[1].Stream, c.Heads[2].Stream}
	assert.Equal(t, []string{"organisation-c", "practitioner-a", "practitioner-b"}, streams, "sorted by stream")
	last, err := s.ReadStream(t.Context(), "practitioner-a", eventstore.ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, checkpoint.Head{Stream: "practitioner-a", Revision: 2, Hash: last[2].Hash}, c.Heads[1])

	back, err := checkpoint.Open(c.Marshal(), pub(key))
	require.NoError(t, err)
	assert.Equal(t, c.Statement, back.Statement)
	assert.Equal(t, c.Heads, back.Heads)
	assert.Equal(t, c.Signature, back.Signature)

	rep, err := checkpoint.Against(t.Context(), s, back)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%v", rep.Differences)
	assert.Equal(t, uint64(3), rep.StreamsMatched)
	assert.Equal(t, uint64(9), rep.EventsChecked)
}

func TestAnEmptyStore(t *testing.T) {
	s, _ := newStore(t)
	key := newKey(t)
	c, err := checkpoint.Take(t.Context(), s, key, now)
	require.NoError(t, err)
	back, err := checkpoint.Open(c.Marshal(), pub(key))
	require.NoError(t, err)
	assert.Empty(t, back.Heads)
	rep, err := checkpoint.Against(t.Context(), s, back)
	require.NoError(t, err)
	assert.True(t, rep.OK)
}

func TestTheStoreMayGrowAfterTheCheckpoint(t *testing.T) {
	s, _ := newStore(t)
	history(t, s)
	c, err := checkpoint.Take(t.Context(), s, newKey(t), now)
	require.NoError(t, err)
	appendN(t, s, "practitioner-a", 2)
	appendN(t, s, "practitioner-d", 1)
	rep, err := checkpoint.Against(t.Context(), s, c)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%v", rep.Differences)
	assert.Equal(t, eventstore.Position(12), rep.Position)
}

// differences renders a report's differences one a line.
func differences(rep checkpoint.Report) string {
	var b strings.Builder
	for _, d := range rep.Differences {
		fmt.Fprintln(&b, d.String())
	}
	return b.String()
}

func TestAgainstNamesWhatDiffers(t *testing.T) {
	cases := []struct {
		name string
		// store returns the store to check, given the one checkpointed.
		store func(t *testing.T, s *bolt.Store) eventstore.Store
		want  []string
	}{
		{
			// The issue: "it fails on any rewritten event even when the
			// later hashes were recomputed".
			name: "an event rewritten and every later hash recomputed",
			store: func(t *testing.T, s *bolt.Store) eventstore.Store {
				to := rewrite(t, s, func(e *eventstore.RecordedEvent) bool {
					if e.Stream == "practitioner-a" && e.Revision == 1 {
						e.Data = []byte(`{"course":"intermediate_a"}`)
					}
					return true
				})
				rep, err := eventstore.Verify(t.Context(), to)
				require.NoError(t, err)
				require.True(t, rep.OK, "the rewritten store's own chains verify")
				return to
			},
			want: []string{"practitioner-a at revision 2: hash ", "history up to here was rewritten"},
		},
		{
			name: "the recorder of a first event changed, rehashed",
			store: func(t *testing.T, s *bolt.Store) eventstore.Store {
				return rewrite(t, s, func(e *eventstore.RecordedEvent) bool {
					if e.Stream == "organisation-c" && e.Revision == 0 {
						e.RecordedBy = "admin:Someone Else"
					}
					return true
				})
			},
			want: []string{"organisation-c at revision 3: hash "},
		},
		{
			name: "a stream cut short",
			store: func(t *testing.T, s *bolt.Store) eventstore.Store {
				return rewrite(t, s, func(e *eventstore.RecordedEvent) bool {
					return e.Stream != "organisation-c" || e.Revision < 2
				})
			},
			want: []string{"organisation-c: ends at revision 1, before the checkpoint's 3", "the store holds 7 events, fewer than the checkpoint's 9", "ends at position 7, before the checkpoint's 9"},
		},
		{
			name: "a stream removed",
			store: func(t *testing.T, s *bolt.Store) eventstore.Store {
				return rewrite(t, s, func(e *eventstore.RecordedEvent) bool { return e.Stream != "practitioner-b" })
			},
			want: []string{"practitioner-b: missing: the checkpoint signed it at revision 1"},
		},
		{
			name: "a stream cut short and filled up again to the same length",
			store: func(t *testing.T, s *bolt.Store) eventstore.Store {
				to := rewrite(t, s, func(e *eventstore.RecordedEvent) bool { return e.Stream != "practitioner-b" || e.Revision == 0 })
				appendN(t, to, "practitioner-b", 1)
				return to
			},
			want: []string{"practitioner-b at revision 1: hash "},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t)
			history(t, s)
			key := newKey(t)
			c, err := checkpoint.Take(t.Context(), s, key, now)
			require.NoError(t, err)
			rep, err := checkpoint.Against(t.Context(), tc.store(t, s), c)
			require.NoError(t, err)
			assert.False(t, rep.OK)
			got := differences(rep)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			assert.Equal(t, len(rep.Differences), rep.DifferencesFound)
		})
	}
}

// TestAStoreRolledBackToAnOlderCopyFailsALaterCheckpoint copies the store's
// file (a backup), appends more, takes a checkpoint, then puts the older
// copy back: the copy verifies on its own, but not against the checkpoint.
func TestAStoreRolledBackToAnOlderCopyFailsALaterCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	s := openStore(t, path)
	history(t, s)
	older := filepath.Join(dir, "older.db")
	f, err := os.Create(older)
	require.NoError(t, err)
	_, err = s.WriteTo(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	appendN(t, s, "practitioner-a", 1)
	appendN(t, s, "practitioner-e", 2)
	key := newKey(t)
	c, err := checkpoint.Take(t.Context(), s, key, now)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	rolled := openStore(t, older)
	// Even with a new event written since, so that the store does not look
	// shorter by its event count alone.
	appendN(t, rolled, "practitioner-b", 3)
	rep, err := eventstore.Verify(t.Context(), rolled)
	require.NoError(t, err)
	require.True(t, rep.OK, "the older copy's own chains verify")
	back, err := checkpoint.Open(c.Marshal(), pub(key))
	require.NoError(t, err)
	ar, err := checkpoint.Against(t.Context(), rolled, back)
	require.NoError(t, err)
	assert.False(t, ar.OK)
	got := differences(ar)
	assert.Contains(t, got, "practitioner-a: ends at revision 2, before the checkpoint's 3")
	assert.Contains(t, got, "practitioner-e: missing")
}

func TestOpenRefusesAnEditedOrForeignCheckpoint(t *testing.T) {
	s, _ := newStore(t)
	history(t, s)
	key := newKey(t)
	c, err := checkpoint.Take(t.Context(), s, key, now)
	require.NoError(t, err)
	file := string(c.Marshal())
	h := c.Heads[1].Hash.String()
	other := c.Heads[0].Hash.String()
	cases := []struct {
		name string
		edit func(string) string
		key  ed25519.PublicKey
		want error
	}{
		{"another key", nil, pub(newKey(t)), checkpoint.ErrWrongKey},
		{"a head's hash", func(f string) string { return strings.Replace(f, h, other, 1) }, nil, checkpoint.ErrBadSignature},
		{"a head's revision", func(f string) string {
			return strings.Replace(f, `"revision":2`, `"revision":1`, 1)
		}, nil, checkpoint.ErrBadSignature},
		{"a head removed", func(f string) string {
			i := strings.Index(f, `{"stream":"practitioner-b"`)
			return strings.TrimRight(f[:i], ",\n ") + "\n  ]\n}\n"
		}, nil, checkpoint.ErrBadSignature},
		{"the position", func(f string) string { return strings.Replace(f, `"position": 9`, `"position": 8`, 1) }, nil, checkpoint.ErrBadSignature},
		{"the time", func(f string) string { return strings.Replace(f, "12:00:00", "11:00:00", 1) }, nil, checkpoint.ErrBadSignature},
		{"the root, with the heads to match", func(f string) string {
			c2 := *c
			c2.Heads = append([]checkpoint.Head(nil), c.Heads[:2]...)
			c2.Statement.Streams = 2
			c2.Statement.HeadsRoot = checkpoint.Root(c2.Heads).String()
			return string(c2.Marshal())
		}, nil, checkpoint.ErrBadSignature},
		{"the key id, to another key's", func(f string) string {
			return strings.Replace(f, c.Statement.KeyID, checkpoint.KeyID(pub(newKey(t))), 1)
		}, nil, checkpoint.ErrWrongKey},
		{"the signature", func(f string) string {
			sig := c.Marshal()
			i := bytes.Index(sig, []byte(`"signature": "`)) + len(`"signature": "`)
			flip := "A"
			if sig[i] == 'A' {
				flip = "B"
			}
			return f[:i] + flip + f[i+1:]
		}, nil, checkpoint.ErrBadSignature},
		{"an unknown member", func(f string) string { return strings.Replace(f, `"heads"`, `"note": "x", "heads"`, 1) }, nil, checkpoint.ErrMalformed},
		{"not JSON", func(string) string { return "hello" }, nil, checkpoint.ErrMalformed},
		{"another format", func(f string) string { return strings.Replace(f, "checkpoint/v1", "checkpoint/v2", 1) }, nil, checkpoint.ErrMalformed},
		{"empty", func(string) string { return "" }, nil, checkpoint.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := file
			if tc.edit != nil {
				f = tc.edit(file)
				require.NotEqual(t, file, f, "the edit must change the file")
			}
			k := tc.key
			if k == nil {
				k = pub(key)
			}
			_, err := checkpoint.Open([]byte(f), k)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("whitespace is not an edit", func(t *testing.T) {
		_, err := checkpoint.Open([]byte(strings.ReplaceAll(file, "\n", "\n\t")), pub(key))
		assert.NoError(t, err)
	})
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	_, err := checkpoint.LoadKey(dir)
	assert.ErrorIs(t, err, checkpoint.ErrNoKey)

	k, err := checkpoint.LoadOrCreateKey(dir)
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dir, checkpoint.KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	again, err := checkpoint.LoadOrCreateKey(dir)
	require.NoError(t, err)
	assert.True(t, k.Equal(again), "a second call keeps the key")
	loaded, err := checkpoint.LoadKey(dir)
	require.NoError(t, err)
	assert.True(t, k.Equal(loaded))

	p, err := checkpoint.ParsePublicKey(checkpoint.MarshalPublicKey(pub(k)))
	require.NoError(t, err)
	assert.True(t, pub(k).Equal(p))
	_, err = checkpoint.ParsePublicKey([]byte("not a key"))
	assert.Error(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(dir, checkpoint.KeyFile), []byte("damaged"), 0o600))
	_, err = checkpoint.LoadOrCreateKey(dir)
	assert.ErrorContains(t, err, "not a PEM private key", "a damaged key is not replaced by a new one")
}

func TestCovers(t *testing.T) {
	s, _ := newStore(t)
	history(t, s)
	c, err := checkpoint.Take(t.Context(), s, newKey(t), now)
	require.NoError(t, err)
	appendN(t, s, "practitioner-b", 1)
	var all []eventstore.RecordedEvent
	for e, err := range s.ReadAll(t.Context(), eventstore.Start) {
		require.NoError(t, err)
		all = append(all, e)
	}
	streams := func(names ...string) []eventstore.RecordedEvent {
		var out []eventstore.RecordedEvent
		for _, e := range all {
			for _, n := range names {
				if e.Stream == n && (n != "practitioner-b" || e.Revision < 2) {
					out = append(out, e)
				}
			}
		}
		return out
	}
	t.Run("a subset of whole streams", func(t *testing.T) {
		rep := checkpoint.Covers(c, streams("practitioner-a", "practitioner-b"))
		assert.True(t, rep.OK, "%v", rep.Differences)
		assert.Equal(t, uint64(2), rep.StreamsMatched)
	})
	t.Run("a stream past its head", func(t *testing.T) {
		rep := checkpoint.Covers(c, all)
		assert.False(t, rep.OK)
		assert.Contains(t, differences(rep), "practitioner-b at revision 2: goes past the checkpoint's head")
	})
	t.Run("a stream short of its head", func(t *testing.T) {
		rep := checkpoint.Covers(c, streams("organisation-c")[:2])
		assert.False(t, rep.OK)
		assert.Contains(t, differences(rep), "organisation-c: ends at revision 1, before the checkpoint's 3")
	})
	t.Run("an edited event", func(t *testing.T) {
		ev := streams("practitioner-a")
		ev[1].Data = []byte(`{"course":"intermediate_a"}`)
		rep := checkpoint.Covers(c, ev)
		assert.False(t, rep.OK)
		assert.Contains(t, differences(rep), "practitioner-a at revision 1: the hash chain breaks: hash does not match")
	})
	t.Run("a stream the checkpoint does not know", func(t *testing.T) {
		e := all[0]
		e.Stream = "practitioner-z"
		e.Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(e))
		rep := checkpoint.Covers(c, []eventstore.RecordedEvent{e})
		assert.False(t, rep.OK)
		assert.Contains(t, differences(rep), "practitioner-z: not in the checkpoint")
	})
}

var _ io.WriterTo = (*bolt.Store)(nil)

// readAllOnly hides every method of a store but ReadAll, so that Take
// reads every event instead of asking for the heads.
type readAllOnly struct{ checkpoint.Reader }

func TestTakeFromTheIndexMatchesAFullRead(t *testing.T) {
	s, _ := newStore(t)
	history(t, s)
	appendN(t, s, "practitioner-a", 2)
	key := newKey(t)
	var _ checkpoint.HeadsReader = s
	fast, err := checkpoint.Take(t.Context(), s, key, now)
	require.NoError(t, err)
	full, err := checkpoint.Take(t.Context(), readAllOnly{s}, key, now)
	require.NoError(t, err)
	assert.Equal(t, full.Statement, fast.Statement)
	assert.Equal(t, full.Heads, fast.Heads)
	assert.Equal(t, eventstore.Position(11), fast.Statement.Position)
	assert.Equal(t, uint64(11), fast.Statement.Events)
	assert.Equal(t, full.Marshal(), fast.Marshal())

	empty, _ := newStore(t)
	fast, err = checkpoint.Take(t.Context(), empty, key, now)
	require.NoError(t, err)
	full, err = checkpoint.Take(t.Context(), readAllOnly{empty}, key, now)
	require.NoError(t, err)
	assert.Equal(t, full.Marshal(), fast.Marshal())
}

func TestMarshalWritesHeadsAsEncodingJSONWould(t *testing.T) {
	key := newKey(t)
	var heads []checkpoint.Head
	for i, name := range []string{"organisation-1", `odd"quote`, "back\\slash", "tab\there", "zoë", "<tag>&", "practitioner-2"} {
		heads = append(heads, checkpoint.Head{Stream: name, Revision: uint64(i * 1000), Hash: eventstore.Hash{byte(i), 0xab}})
	}
	c, err := checkpoint.Take(t.Context(), sliceReader(heads), key, now)
	require.NoError(t, err)
	file := string(c.Marshal())
	for _, h := range c.Heads {
		want, err := json.Marshal(h)
		require.NoError(t, err)
		assert.Contains(t, file, "\n    "+string(want), h.Stream)
	}
	back, err := checkpoint.Open([]byte(file), pub(key))
	require.NoError(t, err)
	assert.Equal(t, c.Heads, back.Heads)
}

// sliceReader yields one event per head, with the head's stream, revision
// and hash.
type sliceReader []checkpoint.Head

func (r sliceReader) ReadAll(_ context.Context, _ eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for i, h := range r {
			if !yield(eventstore.RecordedEvent{Stream: h.Stream, Revision: h.Revision, Hash: h.Hash, Position: eventstore.Position(i + 1)}, nil) {
				return
			}
		}
	}
}
