package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/api/client"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/projections"
)

// Files of a data directory.
const (
	eventsFile   = "events.db"
	snapshotFile = "projections.snapshot"
	// serverFile says where the server serving this directory listens, so
	// that read-only commands can go through it while it holds the store.
	serverFile = "server.json"
)

type serverInfo struct {
	URL string `json:"url"`
	PID int    `json:"pid"`
}

// errServing is returned when the embedded store is locked by a server.
var errServing = errors.New("the store is in use by a running ledger server")

// openBolt opens the embedded store of dir for writing. lockWait bounds the
// wait for another process's lock; errServing wraps the timeout.
func openBolt(dir string, lockWait time.Duration) (*bolt.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s, err := bolt.Open(filepath.Join(dir, eventsFile), bolt.Options{LockTimeout: lockWait})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s): %w", errServing, dir, err)
	}
	return s, err
}

// Event store kinds, as --store, --from and --to name them.
const (
	storeBolt      = "bolt"
	storeKurrentDB = "kurrentdb"
)

// checkStoreKind refuses a store kind other than bolt or kurrentdb; flag
// names the flag it came from.
func checkStoreKind(flag, kind string) error {
	switch kind {
	case storeBolt, storeKurrentDB:
		return nil
	case "":
		return usageError("%s is required: bolt or kurrentdb", flag)
	}
	return usageError("%s must be bolt or kurrentdb, not %q", flag, kind)
}

// openKurrentDB connects to KurrentDB. The connection string is not
// repeated in errors: it may carry a password.
func openKurrentDB(ctx context.Context, connectionString string) (*kurrentdb.Store, error) {
	s, err := kurrentdb.Open(ctx, connectionString, kurrentdb.Options{StreamPrefixes: domain.StreamPrefixes()})
	if err != nil {
		return nil, fmt.Errorf("KurrentDB (--kurrentdb): %w", err)
	}
	return s, nil
}

// storeFlags choose the event store a command works on: the embedded store
// of a data directory, or KurrentDB.
type storeFlags struct {
	data, store, kurrentdb string
}

// addStoreFlags defines --data, --store and --kurrentdb on fs.
func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	f := &storeFlags{}
	fs.StringVar(&f.data, "data", "./data", "data `directory`: the embedded store's (with --store bolt), and the key store's, which opens practitioners' sealed names")
	fs.StringVar(&f.store, "store", storeBolt, "event store: bolt (embedded) or kurrentdb")
	fs.StringVar(&f.kurrentdb, "kurrentdb", "", "KurrentDB connection `URL`, with --store kurrentdb")
	return f
}

// check refuses an unknown store, and a KurrentDB URL missing or given
// where it would be ignored.
func (f *storeFlags) check() error {
	if err := checkStoreKind("--store", f.store); err != nil {
		return err
	}
	switch {
	case f.store == storeKurrentDB && f.kurrentdb == "":
		return usageError("--store kurrentdb needs --kurrentdb URL (e.g. esdb://127.0.0.1:2113?tls=false)")
	case f.store == storeBolt && f.kurrentdb != "":
		return usageError("--kurrentdb is only used with --store kurrentdb")
	}
	return nil
}

// openSource opens the chosen store for reading. KurrentDB has no
// exclusive lock, so it is read directly even while servers use it.
func (f *storeFlags) openSource(ctx context.Context, purpose string) (source, error) {
	if f.store == storeKurrentDB {
		s, err := openKurrentDB(ctx, f.kurrentdb)
		if err != nil {
			return nil, err
		}
		return newLocalSource(s, f.data), nil
	}
	return openSource(f.data, purpose)
}

// source is where a read-only command reads the ledger: the store itself
// when it is free, or the running server's API when the server holds it.
// bbolt locks its file exclusively for the writer, and a read-only open
// would wait for that lock too, so going through the server is the only
// way to read while it runs.
type source interface {
	verify(ctx context.Context) (eventstore.VerifyReport, error)
	practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error)
	history(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error)
	events(ctx context.Context, fn func(export.Event) error) error
	// reader reads every event in global order, as stored.
	reader() eventstore.AllReader
	close() error
}

// openSource opens dir's store, or, when a server holds it, a client of
// that server authenticated by a short-lived auditor token.
func openSource(dir, purpose string) (source, error) {
	if _, err := os.Stat(filepath.Join(dir, eventsFile)); err != nil {
		return nil, fmt.Errorf("no ledger in %s (no %s): %w", dir, eventsFile, err)
	}
	s, err := openBolt(dir, 500*time.Millisecond)
	if err == nil {
		return newLocalSource(s, dir), nil
	}
	if !errors.Is(err, errServing) {
		return nil, err
	}
	info, tokens, name, token, err := reachServer(dir, purpose, api.RoleAuditor)
	if err != nil {
		return nil, err
	}
	return &remoteSource{Client: client.New(info.URL, token, &http.Client{Timeout: 5 * time.Minute}), name: name, tokens: tokens}, nil
}

// reachServer finds the server serving dir (from its server.json) and mints
// a 15-minute token of role for a command's purpose; the caller revokes it
// by name when done.
func reachServer(dir, purpose string, role api.Role) (info serverInfo, tokens *api.Tokens, name, token string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, serverFile))
	if err != nil {
		return info, nil, "", "", fmt.Errorf("%w, and its address is unknown (%v)", errServing, err)
	}
	if err := json.Unmarshal(b, &info); err != nil || info.URL == "" {
		return info, nil, "", "", fmt.Errorf("%s is damaged", serverFile)
	}
	tokens = auth.Open(dir)
	name = fmt.Sprintf("cli-%s-%d-%s", purpose, os.Getpid(), uuid.NewString()[:8])
	token, err = tokens.Add(name, role, 15*time.Minute)
	return info, tokens, name, token, err
}

// localSource reads a store directly: the embedded store it holds the lock
// of, or KurrentDB.
type localSource struct {
	store eventstore.Store
	keys  *keystore.Keys
	// keysErr is why the key store could not be read; keys is nil then.
	keysErr error
	views   *projections.Views
}

// newLocalSource reads s, opening personal data with the key store of dir.
//
// A key store that cannot be read (damaged) fails only what shows names
// (replay): verify and export read the store's bytes and need no keys.
func newLocalSource(s eventstore.Store, dir string) *localSource {
	keys, err := keystore.Open(dir)
	return &localSource{store: s, keys: keys, keysErr: err, views: projections.NewViewsWithKeys(s, keys)}
}

func (l *localSource) verify(ctx context.Context) (eventstore.VerifyReport, error) {
	return eventstore.Verify(ctx, l.store)
}

func (l *localSource) practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error) {
	if l.keysErr != nil {
		return projections.PractitionerView{}, l.keysErr
	}
	return l.views.Practitioner(ctx, id, asOf, knownAt)
}

func (l *localSource) history(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error) {
	if l.keysErr != nil {
		return nil, l.keysErr
	}
	return l.views.History(ctx, stream, knownAt)
}

func (l *localSource) events(ctx context.Context, fn func(export.Event) error) error {
	for e, err := range l.store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return err
		}
		if err := fn(export.From(e)); err != nil {
			return err
		}
	}
	return nil
}

func (l *localSource) reader() eventstore.AllReader { return l.store }

func (l *localSource) close() error {
	return errors.Join(l.store.Close(), l.keys.Close())
}

// remoteSource reads through a running server's API, with a token it
// revokes when closed.
type remoteSource struct {
	*client.Client
	name   string
	tokens *api.Tokens
}

func (r *remoteSource) verify(ctx context.Context) (eventstore.VerifyReport, error) {
	return r.Verify(ctx)
}

func (r *remoteSource) practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error) {
	return r.Practitioner(ctx, id, asOf, knownAt)
}

func (r *remoteSource) history(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error) {
	return r.History(ctx, stream, knownAt)
}

func (r *remoteSource) events(ctx context.Context, fn func(export.Event) error) error {
	for x, err := range r.Events(ctx, eventstore.Start) {
		if err != nil {
			return err
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

func (r *remoteSource) reader() eventstore.AllReader { return r.Client }

func (r *remoteSource) close() error { return r.tokens.Revoke(r.name) }
