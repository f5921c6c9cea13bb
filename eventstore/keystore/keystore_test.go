package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	stream = "practitioner-2d9e8f7a-1b2c-4d3e-8f9a-0b1c2d3e4f50"
	other  = "practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01"
	typ    = "PractitionerRegistered"
	name   = "Morwenna Testperson"
	email  = "morwenna@example.org"
)

var fields = []string{"name", "email"}

func registration() []byte {
	return []byte(`{"name":"` + name + `","email":"` + email + `","profession":"education"}`)
}

func TestSealOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir)
	require.NoError(t, err)
	defer k.Close()
	id := uuid.New()
	sealed, err := k.Seal(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), name)
	assert.NotContains(t, string(sealed), email)
	assert.Contains(t, string(sealed), `"profession":"education"`)
	assert.True(t, IsSealed(sealed))

	opened, st, err := k.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st)
	assert.JSONEq(t, string(registration()), string(opened))

	// The key is durable: a new Keys over the same directory opens it.
	k2, err := Open(dir)
	require.NoError(t, err)
	opened, st, err = k2.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st)
	assert.JSONEq(t, string(registration()), string(opened))

	info, err := os.Stat(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestSealLeavesDataWithoutPersonalFields(t *testing.T) {
	k, err := Open(t.TempDir())
	require.NoError(t, err)
	data := []byte(`{"profession":"health"}`)
	out, err := k.Seal(stream, uuid.New(), "PractitionerDetailsChanged", data, fields)
	require.NoError(t, err)
	assert.Equal(t, data, out)
	assert.False(t, k.HasKey(stream), "no key made for nothing to seal")
	out, err = (*Keys)(nil).Seal(stream, uuid.New(), typ, registration(), fields)
	require.NoError(t, err)
	assert.Equal(t, registration(), out, "a nil store seals nothing")
}

// TestAssociatedData: the ciphertext is bound to its event's identity, so
// one moved to another event, or another stream, does not open.
func TestAssociatedData(t *testing.T) {
	k, err := Open(t.TempDir())
	require.NoError(t, err)
	id := uuid.New()
	sealed, err := k.Seal(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	_, _, err = k.Open(stream, uuid.New(), typ, sealed, fields)
	assert.Error(t, err, "another event id")
	_, _, err = k.Open(stream, id, "PractitionerDetailsChanged", sealed, fields)
	assert.Error(t, err, "another type")
	_, err = k.Seal(other, uuid.New(), typ, registration(), fields) // other gets its own key
	require.NoError(t, err)
	_, _, err = k.Open(other, id, typ, sealed, fields)
	assert.Error(t, err, "another stream's key")
}

func TestErase(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir)
	require.NoError(t, err)
	id := uuid.New()
	sealed, err := k.Seal(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	otherSealed, err := k.Seal(other, id, typ, registration(), fields)
	require.NoError(t, err)
	var key []byte
	func() {
		k.mu.RLock()
		defer k.mu.RUnlock()
		key = k.keys[stream]
	}()
	require.Len(t, key, 32)

	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	require.NoError(t, k.Erase(stream, at))
	got, ok := k.Erased(stream)
	assert.True(t, ok)
	assert.Equal(t, at, got)

	opened, st, err := k.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Erased, st)
	assert.JSONEq(t, `{"profession":"education"}`, string(opened))
	_, st, err = k.Open(other, id, typ, otherSealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st, "other streams keep their keys")

	// The erased key is in no byte of the file, in any encoding.
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.False(t, bytes.Contains(b, key))
	assert.NotContains(t, string(b), base64.StdEncoding.EncodeToString(key))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	// Erasing twice is refused and changes nothing.
	require.ErrorIs(t, k.Erase(stream, at.Add(time.Hour)), ErrErased)
	got, _ = k.Erased(stream)
	assert.Equal(t, at, got)
	b2, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.Equal(t, b, b2)

	// No new key for an erased stream.
	_, err = k.Seal(stream, uuid.New(), typ, registration(), fields)
	require.ErrorIs(t, err, ErrErased)

	// Reopened: still erased, the other key still there, and new keys
	// append to the rewritten file.
	require.NoError(t, k.Close())
	k2, err := Open(dir)
	require.NoError(t, err)
	_, ok = k2.Erased(stream)
	assert.True(t, ok)
	assert.True(t, k2.HasKey(other))
	third := "practitioner-" + uuid.NewString()
	_, err = k2.Seal(third, uuid.New(), typ, registration(), fields)
	require.NoError(t, err)
	k3, err := Open(dir)
	require.NoError(t, err)
	assert.True(t, k3.HasKey(third))
	assert.True(t, k3.HasKey(other))
}

// TestEraseLegacyPlaintext: data stored in plaintext before sealing existed
// opens as erased once the stream is, though its bytes still hold the name.
func TestEraseLegacyPlaintext(t *testing.T) {
	k, err := Open(t.TempDir())
	require.NoError(t, err)
	id := uuid.New()
	out, st, err := k.Open(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	assert.Equal(t, Plain, st)
	assert.Equal(t, registration(), out)
	require.NoError(t, k.Erase(stream, time.Now()))
	out, st, err = k.Open(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	assert.Equal(t, Erased, st)
	assert.NotContains(t, string(out), name)
	assert.NotContains(t, string(out), email)
}

// TestUnavailable: sealed data without the key (history imported without
// its key file) opens with its personal fields left out.
func TestUnavailable(t *testing.T) {
	k, err := Open(t.TempDir())
	require.NoError(t, err)
	id := uuid.New()
	sealed, err := k.Seal(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	for _, keys := range []*Keys{nil, mustOpen(t, t.TempDir())} {
		out, st, err := keys.Open(stream, id, typ, sealed, fields)
		require.NoError(t, err)
		assert.Equal(t, Unavailable, st)
		assert.JSONEq(t, `{"profession":"education"}`, string(out))
	}
}

func mustOpen(t *testing.T, dir string) *Keys {
	t.Helper()
	k, err := Open(dir)
	require.NoError(t, err)
	return k
}

func TestOpenFile(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	good := `{"stream":"` + stream + `","key":"` + key + `"}` + "\n"
	tests := []struct {
		name    string
		content string
		want    string // the file after Open; "" when Open fails
		hasKey  bool
	}{
		{"a torn last line is cut off", good + `{"stream":"` + other + `","ke`, good, true},
		{"a whole file", good, good, true},
		{"a damaged line", `{"stream":` + "\n" + good, "", false},
		{"a short key", `{"stream":"` + stream + `","key":"AAAA"}` + "\n", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			k, err := Open(dir)
			if tc.want == "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "damaged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.hasKey, k.HasKey(stream))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
}

func TestSealRefusesReservedField(t *testing.T) {
	k, err := Open(t.TempDir())
	require.NoError(t, err)
	data, _ := json.Marshal(map[string]string{"name": name, SealedField: "x"})
	_, err = k.Seal(stream, uuid.New(), typ, data, fields)
	assert.Error(t, err)
}

// TestSharedFile: two key stores on one file, as two servers on one
// KurrentDB have: keys made by one open in the other, an erasure by one is
// seen by the other once it reloads, and neither loses the other's keys.
func TestSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared", FileName)
	a, err := OpenFile(path)
	require.NoError(t, err)
	b, err := OpenFile(path)
	require.NoError(t, err)
	id := uuid.New()
	sealed, err := a.Seal(stream, id, typ, registration(), fields)
	require.NoError(t, err)
	opened, st, err := b.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st, "b reloads on a miss")
	assert.JSONEq(t, string(registration()), string(opened))

	require.NoError(t, a.Erase(stream, time.Now()))
	_, st, err = b.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st, "b holds the key until it reloads")
	require.NoError(t, b.Reload())
	_, st, err = b.Open(stream, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Erased, st)

	// b appends after a replaced the file: to the new file, under a lock.
	otherID := uuid.New()
	otherSealed, err := b.Seal(other, otherID, typ, registration(), fields)
	require.NoError(t, err)
	_, st, err = a.Open(other, otherID, typ, otherSealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, st)
	third := "practitioner-" + uuid.NewString()
	_, err = a.Seal(third, uuid.New(), typ, registration(), fields)
	require.NoError(t, err)
	c, err := OpenFile(path)
	require.NoError(t, err)
	assert.True(t, c.HasKey(other))
	assert.True(t, c.HasKey(third))
	_, gone := c.Erased(stream)
	assert.True(t, gone)
	_, err = b.Seal(stream, uuid.New(), typ, registration(), fields)
	assert.ErrorIs(t, err, ErrErased, "b learns of the erasure before making a key")
}

// A key line cut short (a write that failed on a full disk, or a process
// killed mid-line) must not have the next key glued onto it: that made the
// next practitioner's key unreadable and the whole file "damaged" at the
// next open, so the server would not start.
func TestTornLineIsCutBeforeTheNextKey(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir)
	require.NoError(t, err)
	defer k.Close()
	_, err = k.Seal(stream, uuid.New(), typ, registration(), fields)
	require.NoError(t, err)

	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"stream":"practitioner-b7085030-86c4-5e`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	id := uuid.New()
	sealed, err := k.Seal(other, id, typ, registration(), fields)
	require.NoError(t, err)

	again, err := Open(dir)
	require.NoError(t, err, "the key file must still open after a torn line")
	defer again.Close()
	opened, state, err := again.Open(other, id, typ, sealed, fields)
	require.NoError(t, err)
	assert.Equal(t, Opened, state)
	assert.Contains(t, string(opened), name)
}

// A key that cannot be written for want of space is eventstore.ErrNoSpace,
// so that the API answers 503 with Retry-After rather than 500.
func TestNoSpaceIsErrNoSpace(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		err := noSpace(&os.PathError{Op: "write", Path: "personal-keys.jsonl", Err: errno})
		assert.ErrorIs(t, err, eventstore.ErrNoSpace)
		assert.ErrorIs(t, err, errno)
	}
	assert.NotErrorIs(t, noSpace(os.ErrPermission), eventstore.ErrNoSpace)
}
