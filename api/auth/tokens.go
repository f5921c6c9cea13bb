package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imattertraining/ledger/domain"
)

// Role is what a token may do. Each token has exactly one.
type Role string

// Roles, as ARCHITECTURE.md names them.
const (
	// RoleAdmin records facts and decisions, and reads.
	RoleAdmin Role = "admin"
	// RoleReviewer records decision reviews, and reads.
	RoleReviewer Role = "reviewer"
	// RoleAuditor reads only.
	RoleAuditor Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleReviewer, RoleAuditor}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is who a request acts for: a token's name and role. The name
// is recorded as recorded_by on every event the principal writes.
type Principal struct {
	Name string
	Role Role
}

// FileName is the name of the token file in the data directory.
const FileName = "tokens.json"

// tokenPrefix marks a ledger token so that it is recognisable in a leaked
// log or a secret scanner.
const tokenPrefix = "ldg_"

// TokenInfo is a token as stored: never the token itself, only its hash.
type TokenInfo struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// SHA256 is the hex SHA-256 of the token. A plain hash (not bcrypt or
	// argon2) is enough because a token is 256 random bits: there is no
	// dictionary to try, so a slow hash would only slow every request.
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt, when set, ends the token's validity (the short-lived
	// tokens the ledger command mints to talk to a running server).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// RetiredName is the name of a token that was revoked or expired. It is
// kept for good: the name is the recorded_by of everything that token
// wrote and the owner of its idempotency keys, so giving it to another
// token would let the new holder pass for the old one.
type RetiredName struct {
	Name string `json:"name"`
	// Role is empty for a name reserved without a token (Reserve).
	Role      Role      `json:"role,omitempty"`
	RetiredAt time.Time `json:"retired_at"`
}

type tokenFile struct {
	Version int         `json:"version"`
	Tokens  []TokenInfo `json:"tokens"`
	// Retired lists every name no longer in use, never to be reused.
	Retired []RetiredName `json:"retired,omitempty"`
}

var tokenNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// Tokens is the token file of a data directory. It re-reads the file when
// it changes on disk, so that tokens added or revoked by `ledger token`
// while the server runs take effect: at once (every Authenticate stats the
// file), or, once Remember is called, within recheckEvery (100 ms) of the
// change, with no system call on the way meanwhile; a change this process
// writes itself takes effect at once either way. Safe for concurrent use.
type Tokens struct {
	path string
	now  func() time.Time

	mu      sync.Mutex // serialises writers within this process, the cache and Remember
	stat    os.FileInfo
	cached  []TokenInfo
	retired []RetiredName

	// set is the cache as Authenticate reads it without mu: nil when the
	// file must be read again (never read, or damaged when last read).
	set atomic.Pointer[tokenSet]
	// remembered is true while Remember is in force: Authenticate then
	// trusts set until stale is raised (by a write of this process) or
	// recheckEvery has passed since checked.
	remembered atomic.Bool
	stale      atomic.Bool
	checked    atomic.Int64 // sinceStart when the file was last stat'ed
	// recheckEvery bounds how long another process's change goes unseen.
	recheckEvery time.Duration
	rememberers  int // Remember calls not yet stopped; mu
}

// tokenSet is one reading of the token file, never changed once stored.
type tokenSet struct {
	list   []TokenInfo
	hashes [][sha256.Size]byte
}

// recheckEvery is how long a remembered reading of the token file is
// trusted before the file is stat'ed again: how long a token added or
// revoked by another process (`ledger token`) may go unseen. Watching the
// directory instead (inotify) was tried: the directory also holds
// events.db, and every page the store writes raised an event the server
// had to wake for and discard, which cost HTTP appends ~5-15% of their
// throughput (issue 15).
const recheckEvery = 100 * time.Millisecond

// start is the origin of the monotonic times Tokens keeps.
var start = time.Now()

func sinceStart() int64 { return int64(time.Since(start)) }

// Open returns the token file in dir (which need not exist yet), with
// time.Now as its clock.
func Open(dir string) *Tokens {
	return &Tokens{path: filepath.Join(dir, FileName), now: time.Now, recheckEvery: recheckEvery}
}

// WithClock makes now the clock t reads for creation and expiry times, and
// returns t. Call it before t is used.
func (t *Tokens) WithClock(now func() time.Time) *Tokens {
	t.now = now
	return t
}

// Path returns the token file's path.
func (t *Tokens) Path() string { return t.path }

// load returns the tokens, re-reading the file when its size or
// modification time changed, and stores what it read for Authenticate.
// Callers hold t.mu.
func (t *Tokens) load() ([]TokenInfo, error) {
	list, set, err := t.read()
	t.set.Store(set)
	return list, err
}

// read is load's reading of the file: the tokens, and the set Authenticate
// reads (nil on an error). Callers hold t.mu.
func (t *Tokens) read() ([]TokenInfo, *tokenSet, error) {
	fi, err := os.Stat(t.path)
	t.checked.Store(sinceStart())
	if errors.Is(err, fs.ErrNotExist) {
		t.cached, t.retired, t.stat = nil, nil, nil
		return nil, &tokenSet{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: tokens: %w", err)
	}
	// A rewrite renames a new file into place, so a changed inode, size or
	// time means the tokens changed.
	if set := t.set.Load(); set != nil && t.cached != nil && t.stat != nil && os.SameFile(fi, t.stat) && fi.ModTime().Equal(t.stat.ModTime()) && fi.Size() == t.stat.Size() {
		return t.cached, set, nil
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: tokens: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, fmt.Errorf("auth: tokens: %s is damaged: %w", t.path, err)
	}
	if f.Version != 1 {
		return nil, nil, fmt.Errorf("auth: tokens: %s is damaged: version %d, not 1", t.path, f.Version)
	}
	hashes := make([][sha256.Size]byte, len(f.Tokens))
	names := make(map[string]bool, len(f.Tokens))
	for i, ti := range f.Tokens {
		// What Add could not have written: a role it would have refused
		// would pass the write path's "a reviewer? an auditor?" tests as
		// an admin; a name given twice would be two principals in one.
		if !tokenNameRE.MatchString(ti.Name) || names[ti.Name] || !ti.Role.Valid() {
			return nil, nil, fmt.Errorf("auth: tokens: %s is damaged: token %q (role %q) is not a token Add writes: a bad or repeated name, or an unknown role", t.path, ti.Name, ti.Role)
		}
		names[ti.Name] = true
		h, err := hex.DecodeString(ti.SHA256)
		if err != nil || len(h) != sha256.Size {
			return nil, nil, fmt.Errorf("auth: tokens: %s: token %q has a damaged hash", t.path, ti.Name)
		}
		copy(hashes[i][:], h)
	}
	if f.Tokens == nil {
		f.Tokens = []TokenInfo{}
	}
	t.cached, t.retired, t.stat = f.Tokens, f.Retired, fi
	return t.cached, &tokenSet{list: f.Tokens, hashes: hashes}, nil
}

// Exists reports whether the token file exists.
func (t *Tokens) Exists() bool {
	_, err := os.Stat(t.path)
	return err == nil
}

// Check reads the token file, if there is one, and returns an error
// naming the file when it cannot be read or is damaged, so that a server
// finds out at start rather than on its first request.
func (t *Tokens) Check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.load()
	return err
}

// Retired returns the names no longer in use (revoked or expired), sorted
// by name. None of them is ever given to a new token.
func (t *Tokens) Retired() ([]RetiredName, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.load(); err != nil {
		return nil, err
	}
	out := slices.Clone(t.retired)
	slices.SortFunc(out, func(a, b RetiredName) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// List returns the stored tokens (hashes only), sorted by name.
func (t *Tokens) List() ([]TokenInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list, err := t.load()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b TokenInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Add creates a token named name with role and returns it. The token is
// shown only now: the file keeps its hash. ttl > 0 makes it expire.
func (t *Tokens) Add(name string, role Role, ttl time.Duration) (string, error) {
	if !tokenNameRE.MatchString(name) {
		return "", domain.Errorf(domain.EINVALID, "name", "%q is not a token name: 1-64 of a-z, 0-9, '.', '_', '@', '-', starting with a letter or digit", name)
	}
	if !role.Valid() {
		return "", domain.Errorf(domain.EINVALID, "role", "%q is not a role: admin, reviewer or auditor", role)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("auth: tokens: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(token))
	info := TokenInfo{Name: name, Role: role, SHA256: hex.EncodeToString(sum[:]), CreatedAt: t.now().UTC()}
	if ttl > 0 {
		exp := info.CreatedAt.Add(ttl)
		info.ExpiresAt = &exp
	}
	err := t.update(func(f *tokenFile) error {
		if slices.ContainsFunc(f.Tokens, func(ti TokenInfo) bool { return ti.Name == name }) {
			return domain.Errorf(domain.ECONFLICT, "name", "a token named %q exists; choose another name", name)
		}
		if i := slices.IndexFunc(f.Retired, func(r RetiredName) bool { return r.Name == name }); i >= 0 {
			if f.Retired[i].Role == "" {
				return domain.Errorf(domain.ECONFLICT, "name", "the name %q recorded events without a token of its own (an import, the demo, or a token whose file was lost); a name is never given to another token (it is the recorded_by of what it wrote), so choose another name", name)
			}
			return domain.Errorf(domain.ECONFLICT, "name", "the name %q belonged to a %s token retired on %s; a name is never given to another token (it is the recorded_by of what that token wrote), so choose another name",
				name, f.Retired[i].Role, f.Retired[i].RetiredAt.Format(time.DateOnly))
		}
		f.Tokens = append(f.Tokens, info)
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Reserve retires names that recorded events without a token of their own
// (an import's --recorded-by, the demo's, those of tokens whose file was
// lost), so that no token is ever given one of them. Live tokens' names,
// names already retired and names no token could have are left alone.
// Reserved names are listed among the retired, with no role.
func (t *Tokens) Reserve(names []string) error {
	return t.update(func(f *tokenFile) error {
		for _, name := range names {
			taken := slices.ContainsFunc(f.Tokens, func(ti TokenInfo) bool { return ti.Name == name }) ||
				slices.ContainsFunc(f.Retired, func(r RetiredName) bool { return r.Name == name })
			if !taken && tokenNameRE.MatchString(name) {
				f.Retired = append(f.Retired, RetiredName{Name: name, RetiredAt: t.now().UTC()})
			}
		}
		return nil
	})
}

// Revoke removes the token named name and retires its name for good.
func (t *Tokens) Revoke(name string) error {
	return t.update(func(f *tokenFile) error {
		i := slices.IndexFunc(f.Tokens, func(ti TokenInfo) bool { return ti.Name == name })
		if i < 0 {
			return domain.Errorf(domain.ENOTFOUND, "name", "no token is named %q", name)
		}
		f.Retired = append(f.Retired, RetiredName{Name: name, Role: f.Tokens[i].Role, RetiredAt: t.now().UTC()})
		f.Tokens = slices.Delete(f.Tokens, i, i+1)
		return nil
	})
}

// update rewrites the file with change applied, atomically: a crash leaves
// either the old file or the new one, never half of either.
func (t *Tokens) update(change func(*tokenFile) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Another process (the server, or a second `ledger token`) may write the
	// file too: a lock file serialises read-modify-write across processes.
	unlock, err := lockFile(t.path + ".lock")
	if err != nil {
		return fmt.Errorf("auth: tokens: %w", err)
	}
	defer unlock()
	t.cached = nil
	t.set.Store(nil)
	list, err := t.load()
	if err != nil {
		return err
	}
	// Expired tokens are dropped whenever the file is written, their names
	// retired like those of revoked ones.
	now := t.now()
	f := tokenFile{Version: 1, Retired: slices.Clone(t.retired)}
	for _, ti := range list {
		if ti.ExpiresAt != nil && now.After(*ti.ExpiresAt) {
			f.Retired = append(f.Retired, RetiredName{Name: ti.Name, Role: ti.Role, RetiredAt: ti.ExpiresAt.UTC()})
			continue
		}
		f.Tokens = append(f.Tokens, ti)
	}
	if f.Tokens == nil {
		f.Tokens = []TokenInfo{}
	}
	if err := change(&f); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: tokens: %w", err)
	}
	if err := writeFileAtomic(t.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("auth: tokens: %w", err)
	}
	t.cached = nil // re-read (and re-stat) next time
	t.set.Store(nil)
	return nil
}

// Authenticate returns the principal a token belongs to, or an
// unauthorized error. Every stored hash is compared, in constant time, so
// the time taken says nothing about which stored hash came close.
func (t *Tokens) Authenticate(token string) (Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return Principal{}, domain.Errorf(domain.EUNAUTHORIZED, "", "The bearer token is not valid.")
	}
	var buf [64]byte // a token is 47 bytes: hashed from the stack, not a copy on the heap
	sum := sha256.Sum256(append(buf[:0], token...))
	set, err := t.current()
	if err != nil {
		return Principal{}, err
	}
	found := set.find(sum)
	if found < 0 && t.remembered.Load() {
		// A token added a moment ago by another process (`ledger token
		// add`, then a request) need not wait for the next recheck: a
		// token not found is looked for again in the file as it is now. A
		// revoked token is found, so revocations still wait up to
		// recheckEvery. The stat this costs is a failed request's, which
		// the rate limit bounds.
		if set, err = t.recheck(); err != nil {
			return Principal{}, err
		}
		found = set.find(sum)
	}
	if found < 0 {
		return Principal{}, domain.Errorf(domain.EUNAUTHORIZED, "", "The bearer token is not valid.")
	}
	ti := set.list[found]
	if ti.ExpiresAt != nil && t.now().After(*ti.ExpiresAt) {
		return Principal{}, domain.Errorf(domain.EUNAUTHORIZED, "", "The bearer token has expired.")
	}
	return Principal{Name: ti.Name, Role: ti.Role}, nil
}

// current returns the tokens Authenticate checks against. Remembered, it
// is the last reading while this process changed nothing and the last stat
// is recent; otherwise the file is stat'ed (and read again if it changed).
func (t *Tokens) current() (*tokenSet, error) {
	if set := t.fresh(); set != nil {
		return set, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if set := t.fresh(); set != nil {
		return set, nil // another request read it while this one waited
	}
	return t.loadLocked()
}

// recheck stats the file (reading it again if it changed) whatever the
// cache says.
func (t *Tokens) recheck() (*tokenSet, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loadLocked()
}

// loadLocked stats the file, reads it again if it changed, and returns the
// reading. Callers hold t.mu.
func (t *Tokens) loadLocked() (*tokenSet, error) {
	// Lowered before the stat: a change from here on raises it again.
	t.stale.Store(false)
	if _, err := t.load(); err != nil {
		return nil, err
	}
	return t.set.Load(), nil
}

// find returns the index of the token whose hash is sum, or -1. Every
// stored hash is compared, in constant time.
func (s *tokenSet) find(sum [sha256.Size]byte) int {
	found := -1
	for i := range s.hashes {
		if subtle.ConstantTimeCompare(s.hashes[i][:], sum[:]) == 1 {
			found = i
		}
	}
	return found
}

// fresh returns the cached tokens when Remember is in force and nothing
// says they may be out of date; else nil.
func (t *Tokens) fresh() *tokenSet {
	if !t.remembered.Load() || t.stale.Load() {
		return nil
	}
	set := t.set.Load()
	if set == nil || time.Duration(sinceStart()-t.checked.Load()) >= t.recheckEvery {
		return nil
	}
	return set
}

// Remember makes Authenticate trust its last reading of the token file
// for up to recheckEvery, rather than stat the file on every call: a token
// added or revoked by another process takes effect within recheckEvery,
// one this process writes at once. stop ends what this call began; when
// every Remember is stopped Authenticate stats the file on every call
// again.
func (t *Tokens) Remember() (stop func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rememberers++
	t.remembered.Store(true)
	t.stale.Store(true) // nothing read before now is trusted
	var once sync.Once
	return func() { once.Do(t.forget) }
}

// forget ends one Remember.
func (t *Tokens) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rememberers--
	if t.rememberers == 0 {
		t.remembered.Store(false)
	}
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, synced, then renamed over path, then the directory synced.
func writeFileAtomic(path string, b []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockFile takes an exclusive advisory lock on path, creating it.
func lockFile(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
