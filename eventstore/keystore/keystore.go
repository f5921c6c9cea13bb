// Package keystore owns the sealing of practitioners' personal data and the
// keys it is sealed with: crypto-shredding, so that a person's name and
// email can be made unreadable for good while the hash-chained history that
// holds their ciphertext stays whole and verifiable.
//
// Each practitioner stream has its own random AES-256 key. Seal replaces
// the personal fields of an event's JSON data with one field,
// SealedField, holding their AES-GCM ciphertext, bound to the event's
// identity (stream, event id and type) as associated data, so a ciphertext
// copied into another event does not open. The store only ever sees, and
// the hash chain only ever covers, the ciphertext: it never changes, so
// erasure breaks no chain and no checkpoint. Erase deletes the stream's key
// and leaves a tombstone, after which every event of the stream, sealed or
// written in plaintext before sealing existed, opens as erased.
//
// The keys live in one file in the data directory, FileName, never in the
// event log: JSON lines, one key or one tombstone a line, appended and
// fsynced before the event sealed with a new key is appended (so no event
// is ever stored sealed with a key that could be lost to a crash), and
// rewritten whole on erasure (a temporary file, fsynced, renamed over the
// old one, the directory fsynced) so that the erased key is in no file of
// the directory afterwards. A plain file rather than a bbolt bucket: bbolt
// reuses freed pages without clearing them, so a deleted key could linger
// in its file.
//
// It must not import domain, projections or api: callers name the personal
// fields (domain.PersonalFields).
//
// # Caveats
//
//   - A copy of the key file (a backup) can bring erased data back; backups
//     must be rotated, and a restored key file should not predate an
//     erasure.
//   - The file's old blocks may stay on the disk after the rewrite until the
//     filesystem reuses them; this package can promise only that no file of
//     the data directory holds an erased key.
package keystore

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// FileName is the key store's file in the data directory. A backup of the
// ledger must include it: without it, every sealed name reads as
// unavailable.
const FileName = "personal-keys.jsonl"

// SealedField is the JSON field of a stored event's data that holds its
// sealed personal data in place of the personal fields.
const SealedField = "sealed_personal_data"

// sealedPrefix versions the sealed value's format.
const sealedPrefix = "v1."

// aadDomain separates this use of a key from any other.
const aadDomain = "imatter-ledger/personal-data/v1"

// ErrErased is returned (wrapped) by Seal and Erase when the stream's
// personal data has already been erased: no new key is made for it.
var ErrErased = errors.New("keystore: the personal data of this stream has been erased")

// State says how an event's personal data opened.
type State uint8

const (
	// Plain: the data holds no sealed personal data, and the stream is not
	// erased. Its personal fields, if any, were stored in plaintext before
	// sealing existed (see Legacy).
	Plain State = iota
	// Opened: sealed personal data, opened with the stream's key.
	Opened
	// Erased: the stream's personal data was erased; the personal fields
	// are left out of the data returned, sealed or not.
	Erased
	// Unavailable: sealed with a key this store does not hold and has no
	// tombstone for (history imported without its key file); the personal
	// fields are left out.
	Unavailable
)

// String names the state.
func (s State) String() string {
	switch s {
	case Opened:
		return "opened"
	case Erased:
		return "erased"
	case Unavailable:
		return "unavailable"
	}
	return "plain"
}

// record is one line of the key file: a key, or a tombstone.
type record struct {
	Stream string     `json:"stream"`
	Key    []byte     `json:"key,omitempty"`
	Erased *time.Time `json:"erased,omitempty"`
}

// Keys is the key store of one data directory. A nil *Keys holds no keys:
// it seals nothing (Seal returns the data unchanged) and opens sealed data
// as Unavailable. Safe for concurrent use, and for use by several processes
// sharing one file (servers on one KurrentDB; see Reload).
type Keys struct {
	path string

	mu     sync.RWMutex
	file   *os.File // appends; nil until the first key
	keys   map[string][]byte
	erased map[string]time.Time
	loaded os.FileInfo  // the file as last read; nil: none
	aeads  sync.Map     // stream -> cipher.AEAD
	cached atomic.Int64 // about how many aeads holds
}

// maxCachedCiphers bounds the ciphers kept ready (a few hundred bytes each).
const maxCachedCiphers = 4096

// Open opens the key store of directory dir: OpenFile of dir/FileName.
func Open(dir string) (*Keys, error) { return OpenFile(filepath.Join(dir, FileName)) }

// OpenFile opens the key store in file path (creating nothing until the
// first key). A line torn by a crash at the end of the file (its key was
// never used: the event it was made for is appended only after the line is
// durable) is cut off.
func OpenFile(path string) (*Keys, error) {
	k := &Keys{path: path}
	if err := k.load(true); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the file again if another process changed it: keys it made
// and erasures it did. A key it finds erased is dropped here too. Seal and
// Open reload by themselves when they meet a stream they hold no key for;
// call Reload on learning of an erasure done elsewhere (a PersonalDataErased
// event from the store).
func (k *Keys) Reload() error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.load(false)
}

// changed reports whether the file differs from the one last read.
func (k *Keys) changed() bool {
	fi, err := os.Stat(k.path)
	if err != nil {
		return k.loaded != nil
	}
	return k.loaded == nil || !os.SameFile(fi, k.loaded) || fi.Size() != k.loaded.Size() || !fi.ModTime().Equal(k.loaded.ModTime())
}

// load reads the whole file into fresh maps, if it changed since the last
// read (or always, with force); callers hold mu or own k alone.
func (k *Keys) load(force bool) error {
	if !force && !k.changed() {
		return nil
	}
	f, err := os.Open(k.path)
	if errors.Is(err, os.ErrNotExist) {
		k.keys, k.erased, k.loaded = map[string][]byte{}, map[string]time.Time{}, nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	k.keys, k.erased = map[string][]byte{}, map[string]time.Time{}
	good := 0
	for line := 1; good < len(b); line++ {
		end := bytes.IndexByte(b[good:], '\n')
		if end < 0 {
			break // a torn last line
		}
		var r record
		if err := json.Unmarshal(b[good:good+end], &r); err != nil || r.Stream == "" || (r.Erased == nil && len(r.Key) != 32) {
			return fmt.Errorf("keystore: %s line %d is damaged; restore the file from a backup", k.path, line)
		}
		k.apply(r)
		good += end + 1
	}
	if good < len(b) && force {
		// Only at open: another process may be writing that line now.
		if err := os.Truncate(k.path, int64(good)); err != nil {
			return fmt.Errorf("keystore: cut the torn last line of %s: %w", k.path, err)
		}
		if fi, err = os.Stat(k.path); err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
	}
	k.loaded = fi
	for s := range k.erased {
		k.aeads.Delete(s)
	}
	return nil
}

func (k *Keys) apply(r record) {
	if r.Erased != nil {
		delete(k.keys, r.Stream)
		k.erased[r.Stream] = *r.Erased
		return
	}
	if _, gone := k.erased[r.Stream]; !gone {
		k.keys[r.Stream] = r.Key
	}
}

// Path returns the key file's path.
func (k *Keys) Path() string { return k.path }

// Close releases the file.
func (k *Keys) Close() error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.file == nil {
		return nil
	}
	err := k.file.Close()
	k.file = nil
	return err
}

// Erased reports whether stream's personal data was erased, and when.
func (k *Keys) Erased(stream string) (time.Time, bool) {
	if k == nil {
		return time.Time{}, false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	at, ok := k.erased[stream]
	return at, ok
}

// HasKey reports whether the store holds a key for stream.
func (k *Keys) HasKey(stream string) bool {
	if k == nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[stream] != nil
}

// aead returns the cipher of stream's key; create makes the key (durably)
// when there is none. ok is false when there is no key and none was made.
func (k *Keys) aead(stream string, create bool) (cipher.AEAD, bool, error) {
	if a, ok := k.aeads.Load(stream); ok {
		return a.(cipher.AEAD), true, nil
	}
	k.mu.RLock()
	key := k.keys[stream]
	_, gone := k.erased[stream]
	k.mu.RUnlock()
	if gone {
		return nil, false, fmt.Errorf("%w: %s", ErrErased, stream)
	}
	if key == nil {
		// Another process sharing the file may have made it, or erased it.
		var err error
		if key, gone, err = k.reloadFor(stream); err != nil {
			return nil, false, err
		}
		if gone {
			return nil, false, fmt.Errorf("%w: %s", ErrErased, stream)
		}
	}
	if key == nil {
		if !create {
			return nil, false, nil
		}
		var err error
		if key, err = k.newKey(stream); err != nil {
			return nil, false, err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false, fmt.Errorf("keystore: %w", err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, false, fmt.Errorf("keystore: %w", err)
	}
	// Erase takes the write lock and drops the cipher after deleting the
	// key; storing under the read lock, and only while the key is still
	// there, keeps a cipher from outliving its key.
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.keys[stream] == nil {
		return nil, false, fmt.Errorf("%w: %s", ErrErased, stream)
	}
	if k.cached.Add(1) > maxCachedCiphers {
		// A rebuild meets every practitioner once: keep the cache small.
		k.aeads.Clear()
		k.cached.Store(1)
	}
	k.aeads.Store(stream, a)
	return a, true, nil
}

// reloadFor reloads the file if it changed and returns stream's key and
// whether it is erased.
func (k *Keys) reloadFor(stream string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(false); err != nil {
		return nil, false, err
	}
	_, gone := k.erased[stream]
	return k.keys[stream], gone, nil
}

// newKey makes stream's key and appends it to the file, fsynced, before
// anything is sealed with it.
func (k *Keys) newKey(stream string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.lockedFile()
	if err != nil {
		return nil, err
	}
	defer unlockFile(f)
	// Under the file's lock: what another process appended is read first.
	if err := k.load(false); err != nil {
		return nil, err
	}
	if _, gone := k.erased[stream]; gone {
		return nil, fmt.Errorf("%w: %s", ErrErased, stream)
	}
	if key := k.keys[stream]; key != nil {
		return key, nil // made meanwhile
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	line, err := json.Marshal(record{Stream: stream, Key: key})
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	// A line cut short before (a write that failed on a full disk, a
	// process killed mid-line) is cut off first: appended to, it would make
	// this key unreadable and the whole file damaged. Nobody else writes
	// while the lock is held.
	if err := cutTornLine(f); err != nil {
		return nil, fmt.Errorf("keystore: cut the torn last line of %s: %w", k.path, noSpace(err))
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("keystore: write %s: %w", k.path, noSpace(err))
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("keystore: sync %s: %w", k.path, noSpace(err))
	}
	k.keys[stream] = key
	if k.loaded, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return key, nil
}

// cutTornLine truncates f (the key file, locked) after its last newline,
// if its last line was left without one.
func cutTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	r, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer r.Close()
	var buf [4096]byte
	for end := fi.Size(); end > 0; {
		start := max(0, end-int64(len(buf)))
		n, err := r.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if start+int64(i)+1 == fi.Size() {
				return nil // whole
			}
			return f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return f.Truncate(0)
}

// noSpace marks a write that failed for want of disk space (or quota) as
// eventstore.ErrNoSpace, so that the caller answers "retry later" rather
// than an internal error.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", eventstore.ErrNoSpace, err)
	}
	return err
}

// lockedFile returns the append handle of the file now at path (reopened
// when another process replaced the file), locked; callers hold mu and
// unlock it.
func (k *Keys) lockedFile() (*os.File, error) {
	for range 3 {
		if k.file == nil {
			if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
				return nil, fmt.Errorf("keystore: %w", err)
			}
			_, statErr := os.Stat(k.path)
			f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return nil, fmt.Errorf("keystore: %w", err)
			}
			if statErr != nil {
				if err := syncDir(filepath.Dir(k.path)); err != nil {
					f.Close()
					return nil, err
				}
			}
			k.file = f
		}
		if err := lockFile(k.file); err != nil {
			return nil, fmt.Errorf("keystore: lock %s: %w", k.path, err)
		}
		held, err1 := k.file.Stat()
		now, err2 := os.Stat(k.path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return k.file, nil
		}
		// Replaced by an erasure in another process: open the new file.
		unlockFile(k.file)
		_ = k.file.Close()
		k.file = nil
	}
	return nil, fmt.Errorf("keystore: %s keeps being replaced", k.path)
}

// Erase deletes stream's key and records a tombstone, rewriting the file
// whole so that no file holds the key afterwards. It returns ErrErased
// (wrapped) when the stream is already erased, and changes nothing then.
// A stream with no key (its data written before sealing existed) gets the
// tombstone all the same.
func (k *Keys) Erase(stream string, at time.Time) error {
	if k == nil {
		return errors.New("keystore: no key store")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.lockedFile()
	if err != nil {
		return err
	}
	defer unlockFile(f)
	if err := k.load(false); err != nil {
		return err
	}
	if _, gone := k.erased[stream]; gone {
		return fmt.Errorf("%w: %s", ErrErased, stream)
	}
	at = at.UTC()
	keys := clone(k.keys)
	delete(keys, stream)
	erased := clone(k.erased)
	erased[stream] = at
	if err := k.rewrite(keys, erased); err != nil {
		return err
	}
	k.keys, k.erased = keys, erased
	k.aeads.Delete(stream)
	return nil
}

func clone[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m)+1)
	for s, v := range m {
		out[s] = v
	}
	return out
}

// rewrite replaces the file with keys and tombstones, atomically; callers
// hold mu.
func (k *Keys) rewrite(keys map[string][]byte, erased map[string]time.Time) (err error) {
	dir := filepath.Dir(k.path)
	f, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, s := range sortedKeys(erased) {
		at := erased[s]
		if err := enc.Encode(record{Stream: s, Erased: &at}); err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
	}
	for _, s := range sortedKeys(keys) {
		if err := enc.Encode(record{Stream: s, Key: keys[s]}); err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := os.Rename(f.Name(), k.path); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if k.loaded, err = os.Stat(k.path); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	// The append handle (still locked: Erase unlocks and then drops it)
	// points at the old, now unlinked, file; lockedFile reopens.
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keystore: sync %s: %w", dir, err)
	}
	return nil
}

// aad is the associated data binding a ciphertext to its event.
func aad(stream string, id uuid.UUID, typ string) []byte {
	b := make([]byte, 0, len(aadDomain)+len(stream)+len(typ)+16+3)
	b = append(b, aadDomain...)
	b = append(b, 0)
	b = append(b, stream...)
	b = append(b, 0)
	b = append(b, id[:]...)
	b = append(b, 0)
	b = append(b, typ...)
	return b
}

// Seal returns data (a JSON object) with the fields named in fields
// replaced by SealedField, their AES-GCM ciphertext under stream's key
// (made, durably, if the stream has none). Data holding none of the fields
// is returned unchanged, as is everything when k is nil. An erased stream
// gives ErrErased: nothing personal is recorded for it again.
func (k *Keys) Seal(stream string, id uuid.UUID, typ string, data []byte, fields []string) ([]byte, error) {
	if k == nil || len(fields) == 0 {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("keystore: seal %s: %w", typ, err)
	}
	if _, ok := obj[SealedField]; ok {
		return nil, fmt.Errorf("keystore: seal %s: the data already holds %s", typ, SealedField)
	}
	personal := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		if v, ok := obj[f]; ok {
			personal[f] = v
			delete(obj, f)
		}
	}
	if len(personal) == 0 {
		return data, nil
	}
	plain, err := json.Marshal(personal)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal %s: %w", typ, err)
	}
	a, _, err := k.aead(stream, true)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	sealed := a.Seal(nonce, nonce, plain, aad(stream, id, typ))
	v, err := json.Marshal(sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed))
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	obj[SealedField] = v
	return json.Marshal(obj)
}

// IsSealed reports whether stored data holds sealed personal data.
func IsSealed(data []byte) bool {
	return bytes.Contains(data, []byte(`"`+SealedField+`"`))
}

// Open returns stored data as the event's type reads it, and how its
// personal data opened. Sealed data with the stream's key: the personal
// fields put back (Opened). An erased stream: the personal fields and the
// sealed field left out, whether they were sealed or stored in plaintext
// before sealing existed (Erased). Sealed data without a key or a
// tombstone: left out (Unavailable). Anything else is returned as it is
// (Plain). A ciphertext that does not open under the key (moved from
// another event, or damaged) is an error.
func (k *Keys) Open(stream string, id uuid.UUID, typ string, data []byte, fields []string) ([]byte, State, error) {
	if len(fields) == 0 {
		return data, Plain, nil
	}
	_, erased := k.Erased(stream)
	sealed := IsSealed(data)
	if !sealed && !erased {
		return data, Plain, nil
	}
	if !erased && k != nil {
		if out, ok, err := k.openFast(stream, id, typ, data); ok || err != nil {
			return out, Opened, err
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, Plain, fmt.Errorf("keystore: open %s: %w", typ, err)
	}
	raw, sealed := obj[SealedField]
	if !sealed && !erased {
		return data, Plain, nil
	}
	delete(obj, SealedField)
	for _, f := range fields {
		delete(obj, f)
	}
	state := Erased
	if !erased {
		state = Unavailable
		var a cipher.AEAD
		var ok bool
		if k != nil {
			var err error
			a, ok, err = k.aead(stream, false)
			if errors.Is(err, ErrErased) {
				ok, state = false, Erased // erased meanwhile
			} else if err != nil {
				return nil, Plain, err
			}
		}
		if ok {
			personal, err := openSealed(a, raw, aad(stream, id, typ))
			if err != nil {
				return nil, Plain, fmt.Errorf("keystore: open %s %s of %s: %w", typ, id, stream, err)
			}
			for _, f := range fields {
				if v, ok := personal[f]; ok {
					obj[f] = v
				}
			}
			state = Opened
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, Plain, fmt.Errorf("keystore: %w", err)
	}
	return out, state, nil
}

func openSealed(a cipher.AEAD, raw json.RawMessage, ad []byte) (map[string]json.RawMessage, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || len(s) < len(sealedPrefix) || s[:len(sealedPrefix)] != sealedPrefix {
		return nil, errors.New("not a sealed value of a known format")
	}
	b, err := base64.RawStdEncoding.DecodeString(s[len(sealedPrefix):])
	if err != nil || len(b) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("sealed value is damaged")
	}
	plain, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], ad)
	if err != nil {
		return nil, errors.New("sealed value does not open with the stream's key for this event")
	}
	var personal map[string]json.RawMessage
	if err := json.Unmarshal(plain, &personal); err != nil {
		return nil, fmt.Errorf("sealed value: %w", err)
	}
	return personal, nil
}

// sealedMember is how Seal writes the sealed field (encoding/json's compact
// output): a JSON string cannot hold these bytes unescaped, so finding them
// finds the member.
var sealedMember = []byte(`"` + SealedField + `":"` + sealedPrefix)

// openFast opens data as Seal wrote it without decoding the whole object:
// the sealed member is cut out and the opened fields put in its place. A
// rebuild opens every registration, and the general path (a map of the
// members, decoded and encoded again) cost most of the time. ok is false
// when data is not of that shape or the stream has no key here; then Open
// takes the general path.
func (k *Keys) openFast(stream string, id uuid.UUID, typ string, data []byte) ([]byte, bool, error) {
	start := bytes.Index(data, sealedMember)
	if start < 1 {
		return nil, false, nil
	}
	valStart := start + len(sealedMember)
	n := bytes.IndexByte(data[valStart:], '"')
	if n < 0 {
		return nil, false, nil
	}
	end := valStart + n + 1 // past the closing quote
	a, ok, err := k.aead(stream, false)
	if errors.Is(err, ErrErased) || err == nil && !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	raw := data[valStart : end-1]
	buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(raw)))
	m, err := base64.RawStdEncoding.Decode(buf, raw)
	if err != nil || m < a.NonceSize()+a.Overhead() {
		return nil, false, fmt.Errorf("keystore: open %s %s of %s: sealed value is damaged", typ, id, stream)
	}
	buf = buf[:m]
	plain, err := a.Open(buf[a.NonceSize():a.NonceSize()], buf[:a.NonceSize()], buf[a.NonceSize():], aad(stream, id, typ))
	if err != nil {
		return nil, false, fmt.Errorf("keystore: open %s %s of %s: sealed value does not open with the stream's key for this event", typ, id, stream)
	}
	plain = bytes.TrimSpace(plain)
	if len(plain) < 2 || plain[0] != '{' || plain[len(plain)-1] != '}' {
		return nil, false, nil
	}
	inner := plain[1 : len(plain)-1]
	// The member and one comma beside it go; the opened members take
	// their place.
	before, after := bytes.TrimRight(data[:start], " \t\r\n"), data[end:]
	switch {
	case len(before) > 0 && before[len(before)-1] == ',':
		before = before[:len(before)-1]
	case len(bytes.TrimSpace(after)) > 0 && bytes.TrimSpace(after)[0] == ',':
		after = bytes.TrimSpace(after)[1:]
	}
	out := make([]byte, 0, len(before)+len(inner)+len(after)+1)
	out = append(out, before...)
	if len(inner) > 0 {
		if t := bytes.TrimSpace(before); len(t) > 0 && t[len(t)-1] != '{' {
			out = append(out, ',')
		}
		out = append(out, inner...)
		if t := bytes.TrimSpace(after); len(t) > 0 && t[0] != '}' {
			out = append(out, ',')
		}
	}
	out = append(out, after...)
	if !json.Valid(out) {
		return nil, false, nil
	}
	return out, true, nil
}
