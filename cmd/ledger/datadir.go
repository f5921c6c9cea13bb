package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
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
		return newLocalSource(s, f.data)
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
		return newLocalSource(s, dir)
	}
	if !errors.Is(err, errServing) {
		return nil, err
	}
	info, tokens, name, token, err := reachServer(dir, purpose, api.RoleAuditor)
	if err != nil {
		return nil, err
	}
	return &remoteSource{base: info.URL, token: token, name: name, tokens: tokens, client: &http.Client{Timeout: 5 * time.Minute}}, nil
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
	tokens = api.OpenTokens(dir)
	name = fmt.Sprintf("cli-%s-%d-%s", purpose, os.Getpid(), uuid.NewString()[:8])
	token, err = tokens.Add(name, role, 15*time.Minute)
	return info, tokens, name, token, err
}

// localSource reads a store directly: the embedded store it holds the lock
// of, or KurrentDB.
type localSource struct {
	store eventstore.Store
	keys  *keystore.Keys
	views *projections.Views
}

// newLocalSource reads s, opening personal data with the key store of dir;
// it closes s if the key store cannot be opened.
func newLocalSource(s eventstore.Store, dir string) (*localSource, error) {
	keys, err := keystore.Open(dir)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &localSource{store: s, keys: keys, views: projections.NewViewsWithKeys(s, keys)}, nil
}

func (l *localSource) verify(ctx context.Context) (eventstore.VerifyReport, error) {
	return eventstore.Verify(ctx, l.store)
}

func (l *localSource) practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error) {
	return l.views.Practitioner(ctx, id, asOf, knownAt)
}

func (l *localSource) history(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error) {
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

func (l *localSource) close() error {
	return errors.Join(l.store.Close(), l.keys.Close())
}

type remoteSource struct {
	base, token, name string
	tokens            *api.Tokens
	client            *http.Client
}

// get fetches path with query q into dst, turning an API error into one.
func (r *remoteSource) get(ctx context.Context, path string, q url.Values, dst any) error {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var resp *http.Response
	var body []byte
	// A large page costs the token more than one request (the server
	// charges responses by size), so a long read meets 429s: wait them out.
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+r.token)
		resp, err = r.client.Do(req)
		if err != nil {
			return fmt.Errorf("the running server at %s: %w", r.base, err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			break
		}
		wait := time.Second
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			wait = time.Duration(n) * time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			return domain.Errorf(e.Error.Code, "", "%s", e.Error.Message)
		}
		return fmt.Errorf("the running server answered %s", resp.Status)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(dst)
}

func (r *remoteSource) verify(ctx context.Context) (eventstore.VerifyReport, error) {
	var rep eventstore.VerifyReport
	err := r.get(ctx, "/v1/verify", nil, &rep)
	return rep, err
}

func (r *remoteSource) practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error) {
	q := url.Values{}
	if !asOf.IsZero() {
		q.Set("as_of", asOf.String())
	}
	if !knownAt.IsZero() {
		q.Set("known_at", knownAt.UTC().Format(time.RFC3339Nano))
	}
	var v projections.PractitionerView
	err := r.get(ctx, "/v1/practitioners/"+id.String(), q, &v)
	return v, err
}

func (r *remoteSource) history(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error) {
	q := url.Values{}
	if !knownAt.IsZero() {
		q.Set("known_at", knownAt.UTC().Format(time.RFC3339Nano))
	}
	kind, id, _ := cutStream(stream)
	var page struct {
		Items []projections.HistoryItem `json:"items"`
	}
	err := r.get(ctx, "/v1/"+kind+"s/"+id+"/history", q, &page)
	return page.Items, err
}

func (r *remoteSource) events(ctx context.Context, fn func(export.Event) error) error {
	cursor := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(5000)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items      []export.Event `json:"items"`
			NextCursor string         `json:"next_cursor"`
		}
		if err := r.get(ctx, "/v1/events", q, &page); err != nil {
			return err
		}
		for _, e := range page.Items {
			if err := fn(e); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func (r *remoteSource) close() error { return r.tokens.Revoke(r.name) }

// cutStream splits "practitioner-<uuid>" into its kind ("practitioner" or
// "organisation", as in the API's paths) and id.
func cutStream(stream string) (kind, id string, ok bool) {
	k, uid, ok := domain.ParseStream(stream)
	if !ok {
		return "", "", false
	}
	return strings.TrimSuffix(domain.StreamPrefix(k), "-"), uid.String(), true
}
