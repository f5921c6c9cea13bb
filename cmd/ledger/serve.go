package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/api/console"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/projections"
)

// Main is a running ledger server: the store, the read models and the API,
// wired together. Tests boot it on 127.0.0.1:0 with a temporary directory.
type Main struct {
	// Data is the data directory (tokens, the embedded store, snapshots).
	Data string
	// Addr is the listen address; port 0 picks a free one.
	Addr string
	// Store is "bolt" (the embedded default) or "kurrentdb".
	Store string
	// KurrentDB is the connection string when Store is "kurrentdb".
	KurrentDB string
	// Keys is the file of the key store that seals practitioners' personal
	// data (default Data/personal-keys.jsonl). Servers sharing one
	// KurrentDB must share it, on one machine: see the README, "Erasure".
	Keys string
	// Demo loads the fictional demo data set into an empty ledger.
	Demo bool
	// BootstrapAdmin creates an admin token even though the store already
	// holds events (a lost tokens.json, or every admin token revoked).
	// Without it, the first admin token is made only for an empty store.
	BootstrapAdmin bool
	// RateLimit and RateBurst are each token's request rate (0: unlimited).
	RateLimit float64
	RateBurst int
	// TrustedProxies are the reverse proxies (CIDR prefixes or addresses)
	// whose X-Forwarded-For names the client.
	TrustedProxies []string
	// CheckpointEvery is how often the server takes a signed checkpoint
	// into DIR/checkpoints (0: never), keeping the newest CheckpointKeep
	// (0: all).
	CheckpointEvery time.Duration
	CheckpointKeep  int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Stdout receives the first admin token, alone; Stderr everything else.
	Stdout, Stderr io.Writer
	// Logger receives the request log (JSON on Stderr when nil).
	Logger *slog.Logger

	// AdminToken is the admin token created by the first serve of an empty
	// store, or by BootstrapAdmin ("" when none was created).
	AdminToken string

	store  eventstore.Store
	keys   *keystore.Keys
	server *api.Server
	key    ed25519.PrivateKey
	// stopCheckpoints ends the periodic checkpoints; checkpointsDone is
	// closed when they have.
	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
}

// URL returns the running server's base URL.
func (m *Main) URL() string { return m.server.URL() }

// Server returns the running API server.
func (m *Main) Server() *api.Server { return m.server }

// EventStore returns the store the server appends to.
func (m *Main) EventStore() eventstore.Store { return m.store }

// Open opens the store, creates the first admin token when the directory
// has none, loads the demo data when asked on an empty ledger, and starts
// serving. It returns once the server listens.
func (m *Main) Open(ctx context.Context) (err error) {
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewJSONHandler(m.Stderr, nil))
	}
	trusted, err := api.ParseTrustedProxies(m.TrustedProxies)
	if err != nil {
		return usageError("--%s", domain.ErrorMessage(err))
	}
	if err := os.MkdirAll(m.Data, 0o700); err != nil {
		return err
	}
	switch m.Store {
	case "", "bolt":
		s, err := openBolt(m.Data, time.Second)
		if errors.Is(err, eventstore.ErrCorrupt) {
			// A store too damaged to open (a file cut short, say) is not
			// served: the error names what is wrong.
			return fmt.Errorf("the store in %s cannot be served: %w\nRun `ledger verify --data %s`, and restore from a backup", m.Data, err, m.Data)
		}
		if err != nil {
			return err
		}
		if err := s.Damage(); err != nil {
			// One it opens but whose own records disagree with its events is
			// served degraded: what the damage does not touch still answers,
			// and /healthz and /v1/verify say what is wrong.
			fmt.Fprintf(m.Stderr, "WARNING: the store in %s is damaged: %v\nServing it degraded: reads and appends that touch the damage fail and /healthz answers 503. Run `ledger verify --data %s`, and restore from a backup.\n", m.Data, err, m.Data)
		}
		m.store = s
	case "kurrentdb":
		if m.KurrentDB == "" {
			return usageError("--store kurrentdb needs --kurrentdb URL (e.g. esdb://127.0.0.1:2113?tls=false)")
		}
		s, err := kurrentdb.Open(ctx, m.KurrentDB, kurrentdb.Options{StreamPrefixes: domain.StreamPrefixes()})
		if err != nil {
			return err
		}
		m.store = s
	default:
		return usageError("--store must be bolt or kurrentdb, not %q", m.Store)
	}
	defer func() {
		if err != nil {
			_ = m.store.Close()
		}
	}()

	tokens := auth.Open(m.Data)
	if err := m.bootstrapAdmin(ctx, tokens); err != nil {
		return err
	}

	// The signing key of checkpoints: created by the first start, kept in
	// the data directory (mode 0600), never in the event log.
	if m.key, err = checkpoint.LoadOrCreateKey(m.Data); err != nil {
		return err
	}

	if m.Keys == "" {
		m.Keys = filepath.Join(m.Data, keystore.FileName)
	}
	keys, err := keystore.OpenFile(m.Keys)
	if err != nil {
		return err
	}
	m.keys = keys
	proj, err := projections.New(m.store, projections.Options{
		SnapshotPath: filepath.Join(m.Data, snapshotFile),
		Keys:         keys,
		Today:        func() domain.Date { return domain.DateOf(m.Now().UTC()) },
		Logf: func(format string, args ...any) {
			m.Logger.Warn(fmt.Sprintf(format, args...))
		},
	})
	if err != nil {
		return err
	}
	if m.Demo {
		loaded, err := loadDemo(ctx, m.store, keys, m.Now)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if loaded > 0 {
			if err := tokens.Reserve([]string{demoRecordedBy}); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "Loaded the fictional demo data set: %d events.\n", loaded)
		}
	}
	m.server, err = api.NewServer(api.Config{
		Store: m.store, Projector: proj, Tokens: tokens, Keys: keys, Logger: m.Logger, Now: m.Now,
		RateLimit: m.RateLimit, RateBurst: m.RateBurst, TrustedProxies: trusted,
		SigningKey: m.key,
		KeepCheckpoint: func(c *checkpoint.Checkpoint) error {
			return keepCheckpoint(m.Data, c, m.CheckpointKeep)
		},
		UI: console.New(console.Options{}),
	})
	if err != nil {
		return err
	}
	if err := m.server.Open(m.Addr); err != nil {
		return err
	}
	b, _ := json.Marshal(serverInfo{URL: m.server.URL(), PID: os.Getpid()})
	if err := os.WriteFile(filepath.Join(m.Data, serverFile), b, 0o600); err != nil {
		_ = m.server.Close(context.Background())
		return err
	}
	m.startCheckpoints()
	return nil
}

// bootstrapAdmin checks the token file and makes the first admin token:
// on an empty store that has no token file, or when BootstrapAdmin asks.
// A token file that cannot be read stops the start, as does a missing one
// beside a store that holds events: minting an admin token then would hand
// the ledger to whoever starts the server next.
func (m *Main) bootstrapAdmin(ctx context.Context, tokens *auth.Tokens) error {
	if err := tokens.Check(); err != nil {
		return fmt.Errorf("%w\nThe token file cannot be used, so no request could be authenticated. Restore %s from a backup; or move it away and start again with --bootstrap-admin to create a new admin token (the names of the old tokens are then forgotten)", err, tokens.Path())
	}
	if tokens.Exists() && !m.BootstrapAdmin {
		return nil
	}
	empty, err := storeEmpty(ctx, m.store)
	if err != nil {
		return err
	}
	if !empty && !m.BootstrapAdmin {
		return fmt.Errorf("%s is missing, but the store already holds events: no admin token is created for a ledger in use. Restore the token file from a backup, add a token with ledger token add, or start once with --bootstrap-admin to create a new admin token", tokens.Path())
	}
	// A ledger in use may have had an "admin" whose token file was lost: a
	// new admin token there gets a name nobody can have used, so that it
	// inherits no one's recorded_by or idempotency keys; and every name
	// that recorded its events is reserved, so that no later token gets one.
	name := "admin"
	if !empty || tokens.Exists() {
		name = "admin-" + uuid.NewString()[:8]
	}
	if !empty {
		if err := reserveRecordedBy(ctx, m.store, tokens); err != nil {
			return err
		}
	}
	tok, err := tokens.Add(name, api.RoleAdmin, 0)
	if err != nil {
		return err
	}
	m.AdminToken = tok
	fmt.Fprintf(m.Stderr, "An admin token named %q was created. It is shown once, now (stdout); keep it:\n", name)
	fmt.Fprintln(m.Stdout, tok)
	return nil
}

// reserveRecordedBy reserves in tokens every name that recorded an event
// of store (auth.Tokens.Reserve): no token is then given one of them.
func reserveRecordedBy(ctx context.Context, store eventstore.Store, tokens *auth.Tokens) error {
	seen := map[string]bool{}
	var names []string
	for e, err := range store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return fmt.Errorf("reading the store for the names that recorded its events: %w", err)
		}
		if !seen[e.RecordedBy] {
			seen[e.RecordedBy] = true
			names = append(names, e.RecordedBy)
		}
	}
	return tokens.Reserve(names)
}

// storeEmpty reports whether the store holds no event at all.
func storeEmpty(ctx context.Context, s eventstore.Store) (bool, error) {
	for _, err := range s.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return false, fmt.Errorf("reading the store to see whether it is empty: %w", err)
		}
		return false, nil
	}
	return true, nil
}

// startCheckpoints takes a checkpoint every CheckpointEvery into the data
// directory's checkpoints folder until Close. A failure is logged and the
// next tick tries again.
func (m *Main) startCheckpoints() {
	m.checkpointsDone = make(chan struct{})
	if m.CheckpointEvery <= 0 {
		close(m.checkpointsDone)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopCheckpoints = cancel
	go func() {
		defer close(m.checkpointsDone)
		t := time.NewTicker(m.CheckpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			c, err := checkpoint.Take(ctx, m.store, m.key, m.Now())
			if err == nil {
				err = keepCheckpoint(m.Data, c, m.CheckpointKeep)
			}
			if err != nil && ctx.Err() == nil {
				m.Logger.Error("periodic checkpoint failed", slog.String("error", err.Error()))
			}
		}
	}()
}

// Close stops the server gracefully (requests in flight, appends included,
// finish within 30 seconds), then closes the store.
func (m *Main) Close() error {
	var err error
	if m.stopCheckpoints != nil {
		m.stopCheckpoints()
		<-m.checkpointsDone
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = m.server.Close(ctx)
		cancel()
		_ = os.Remove(filepath.Join(m.Data, serverFile))
	}
	if m.store != nil {
		if cerr := m.store.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := m.keys.Close(); err == nil {
		err = cerr
	}
	return err
}

func runServe(ctx context.Context, e *env, args []string) error {
	m := &Main{Stdout: e.stdout, Stderr: e.stderr}
	fs := e.newFlags("serve")
	fs.StringVar(&m.Data, "data", "./data", "data `directory`")
	fs.StringVar(&m.Addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.StringVar(&m.Store, "store", "bolt", "event store: bolt (embedded) or kurrentdb")
	fs.StringVar(&m.KurrentDB, "kurrentdb", "", "KurrentDB connection `URL`, with --store kurrentdb: esdb://host:2113?tls=false, or esdb+discover://… for a cluster")
	fs.StringVar(&m.Keys, "keys", "", "the key store `file` sealing practitioners' names and emails (default DIR/"+keystore.FileName+"); servers sharing one KurrentDB share it")
	fs.BoolVar(&m.Demo, "demo", false, "load a small fictional demo data set on first start")
	fs.BoolVar(&m.BootstrapAdmin, "bootstrap-admin", false, "create an admin token (printed once on stdout) although the store holds events: when tokens.json was lost or every admin token revoked")
	fs.Float64Var(&m.RateLimit, "rate", 50, "requests per second per token, or per client address without one; a response costs one more per 16 KiB (0: unlimited)")
	fs.IntVar(&m.RateBurst, "burst", 100, "request burst per token")
	fs.Func("trusted-proxy", "a reverse proxy (`CIDR` or address; repeat for several) whose X-Forwarded-For names the client, for the rate limit of requests without a valid token", func(v string) error {
		m.TrustedProxies = append(m.TrustedProxies, v)
		return nil
	})
	fs.DurationVar(&m.CheckpointEvery, "checkpoint-every", time.Hour, "take a signed checkpoint into DIR/checkpoints this often (0: never)")
	fs.IntVar(&m.CheckpointKeep, "checkpoint-keep", 168, "keep the newest `N` checkpoints in DIR/checkpoints (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments, got %q", fs.Args())
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	m.printWelcome()
	select {
	case <-ctx.Done():
		fmt.Fprintln(m.Stderr, "Shutting down: finishing requests in flight…")
	case err := <-m.server.Err():
		_ = m.Close()
		return err
	}
	if err := m.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(m.Stderr, "Stopped.")
	return nil
}

// printWelcome says where to go next.
func (m *Main) printWelcome() {
	u := m.URL()
	tok := "$TOKEN"
	fmt.Fprintf(m.Stderr, `
The ledger is serving on %[1]s (data in %[2]s).

  Console:       %[1]s/ui/   (sign in with a token; the directory is public)
  Health:        %[1]s/healthz
  API:           %[1]s/v1/openapi.json
  Directory:     %[1]s/v1/directory   (public)
  Metrics:       %[1]s/metrics

Try, with the admin token printed when this data directory was first served:
  TOKEN=...   # or: TOKEN=$(ledger token add --data %[2]s --role auditor --name me)
  curl -s -H "Authorization: Bearer %[3]s" %[1]s/v1/practitioners
`, u, m.Data, tok)
	if m.Demo {
		fmt.Fprintf(m.Stderr, `  curl -s -H "Authorization: Bearer %[2]s" %[1]s/v1/practitioners/%[3]s
  curl -s -H "Authorization: Bearer %[2]s" %[1]s/v1/practitioners/%[3]s/history
  curl -s -H "Authorization: Bearer %[2]s" "%[1]s/v1/decisions?status=exception"
  curl -s %[1]s/v1/directory
(the demo's six practitioners and what each shows: README.md, "make run")
`, u, tok, demoPractitioner)
	}
	fmt.Fprintln(m.Stderr, "\nStop with Ctrl-C (SIGTERM also finishes requests in flight).")
}
