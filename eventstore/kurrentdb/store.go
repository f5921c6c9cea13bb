package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/imattertraining/ledger/eventstore"
)

// DefaultStreamPrefixes are the ledger's stream families: everything the
// ledger appends lives in a stream whose name starts with one of them.
var DefaultStreamPrefixes = []string{"practitioner-", "organisation-"}

// Options tunes a Store. The zero value is ready for production use against
// a KurrentDB node or cluster dedicated to the ledger.
type Options struct {
	// StreamPrefixes are the ledger's stream families (DefaultStreamPrefixes
	// if nil). Append refuses a stream outside them with ErrInvalidEvent, and
	// ReadAll and Subscribe see only streams inside them, so that the
	// server's own "$…" streams and any other application's streams never
	// reach the ledger, and nothing the ledger writes is invisible to them.
	// An empty prefix (every stream) is only allowed with a Namespace.
	StreamPrefixes []string

	// Namespace, when set, is put in front of every stream name on the
	// server and taken off again on reads, so that several ledgers (or test
	// runs) can share one KurrentDB without seeing each other's streams.
	// Production deployments normally leave it empty.
	Namespace string

	// OperationTimeout bounds one call to the server (an append, one page of
	// a read). Default 10s.
	OperationTimeout time.Duration

	// RetryFor is how long transient failures (node unreachable, not the
	// leader, restarting, too busy) are retried with backoff before an
	// operation fails with eventstore.ErrUnavailable. Default 15s.
	RetryFor time.Duration

	// ReadBatchSize is the number of events asked for per read request.
	// Default 500.
	ReadBatchSize int

	// CacheEvents bounds the per-stream summaries kept to check expected
	// revisions, idempotent retries and hash chains without re-reading a
	// whole stream on every append. Default 200,000 events (tens of MB).
	CacheEvents int

	// Now is the clock that stamps RecordedAt (time.Now if nil).
	Now func() time.Time

	// Logger receives the client library's warnings and errors and the
	// adapter's own (discarded if nil).
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.StreamPrefixes == nil {
		o.StreamPrefixes = DefaultStreamPrefixes
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 10 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 15 * time.Second
	}
	if o.ReadBatchSize <= 0 {
		o.ReadBatchSize = 500
	}
	if o.CacheEvents <= 0 {
		o.CacheEvents = 200_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Store is the ledger's event store on KurrentDB. It is safe for concurrent
// use by multiple goroutines, and several Stores (in several processes) may
// share one KurrentDB: every append is conditional on the exact revision it
// read, so writers never fork a stream or its hash chain.
type Store struct {
	opts     Options
	config   esdb.Configuration
	prefixes []string // server-side: Namespace + StreamPrefixes

	// base is cancelled by Close, ending every call in flight.
	base   context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	conn   *conn

	cache streamCache
}

// conn is one client library instance and the calls in flight on it. The
// client's Close must not run while a call is in flight: the library sends
// on a channel that Close closes, which would panic.
type conn struct {
	client   *esdb.Client
	inflight sync.WaitGroup
}

// Open connects to KurrentDB. connectionString is a KurrentDB/EventStoreDB
// connection string as esdb.ParseConnectionString reads it: one node
// ("esdb://host:2113?tls=true"), gossip seeds of a cluster
// ("esdb://n1:2113,n2:2113,n3:2113"), or DNS discovery ("esdb+discover://");
// with credentials ("esdb://user:pass@host:2113") and TLS settings (tls,
// tlsCAFile, tlsVerifyCert, userCertFile/userKeyFile). Open checks that the
// server answers, retrying for Options.RetryFor; an unreachable server gives
// an error wrapping eventstore.ErrUnavailable.
func Open(ctx context.Context, connectionString string, opts Options) (*Store, error) {
	opts.setDefaults()
	cfg, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: connection string: %w", err)
	}
	if cfg.Username != "" && cfg.DisableTLS {
		// The client library silently drops credentials on an insecure
		// channel, so every call would fail as unauthenticated.
		return nil, errors.New("kurrentdb: connection string has credentials but tls=false; credentials are only sent over TLS")
	}
	logger := opts.Logger
	cfg.Logger = func(level esdb.LogLevel, format string, args ...any) {
		switch level {
		case esdb.LogError:
			logger.Warn("kurrentdb client: " + fmt.Sprintf(format, args...))
		case esdb.LogWarn:
			logger.Info("kurrentdb client: " + fmt.Sprintf(format, args...))
		}
	}
	if len(opts.StreamPrefixes) == 0 {
		return nil, errors.New("kurrentdb: no stream prefixes")
	}
	prefixes := make([]string, 0, len(opts.StreamPrefixes))
	for _, p := range opts.StreamPrefixes {
		if p == "" && opts.Namespace == "" {
			return nil, errors.New("kurrentdb: an empty stream prefix needs a namespace (it would take in the server's own streams)")
		}
		if strings.HasPrefix(opts.Namespace+p, "$") {
			return nil, fmt.Errorf("kurrentdb: stream prefix %q is in KurrentDB's system namespace", opts.Namespace+p)
		}
		prefixes = append(prefixes, opts.Namespace+p)
	}

	base, cancel := context.WithCancel(context.Background())
	s := &Store{opts: opts, config: *cfg, prefixes: prefixes, base: base, cancel: cancel}
	s.cache.init(opts.CacheEvents)
	if s.conn, err = s.newConn(); err != nil {
		cancel()
		return nil, err
	}
	// One cheap read proves that the node answers and the credentials work.
	if _, err := s.lastPosition(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("kurrentdb: open: %w", err)
	}
	return s, nil
}

func (s *Store) newConn() (*conn, error) {
	cfg := s.config
	c, err := esdb.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	return &conn{client: c}, nil
}

// Close ends every call in flight (they fail with ErrClosed or the caller's
// context error) and releases the connection. It is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	c := s.conn
	s.mu.Unlock()
	s.cancel()

	done := make(chan struct{})
	go func() { c.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return c.client.Close()
	case <-time.After(5 * time.Second):
		// A call is stuck inside the client library (it can block while
		// rediscovering a node). Closing now could panic it; leaving the
		// client to the garbage collector is the lesser harm.
		s.opts.Logger.Warn("kurrentdb: closed with a call still stuck in the client library; its connection is left open")
		return nil
	}
}

// acquire returns the current connection with a call registered on it, or
// ErrClosed. The caller must call c.inflight.Done.
func (s *Store) acquire() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	s.conn.inflight.Add(1)
	return s.conn, nil
}

// replace swaps in a new client after old closed itself (the library does so
// for good when it fails to discover a node). old is not closed: calls on it
// may still be blocked inside it, and closing would panic them.
func (s *Store) replace(old *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.conn != old {
		return
	}
	c, err := s.newConn()
	if err != nil {
		s.opts.Logger.Warn("kurrentdb: new client", "err", err)
		return
	}
	s.conn = c
}

// opContext is ctx, also ended by Close.
func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.base, cancel)
	return ctx, func() { stop(); cancel() }
}

// result is what a call's goroutine hands back.
type result[T any] struct {
	v   T
	err error
}

// call runs fn against the client in a goroutine, so that ctx is honoured
// even when the client library blocks without looking at it. fn's value only
// reaches the caller through a channel: once the caller has given up on a
// call, nothing the abandoned goroutine writes is shared.
func call[T any](s *Store, ctx context.Context, fn func(ctx context.Context, c *esdb.Client) (T, error)) (T, *conn, error) {
	var zero T
	c, err := s.acquire()
	if err != nil {
		return zero, nil, err
	}
	done := make(chan result[T], 1)
	go func() {
		defer c.inflight.Done()
		v, err := fn(ctx, c.client)
		done <- result[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, c, r.err
	case <-ctx.Done():
		return zero, c, ctx.Err()
	}
}

// do runs fn, retrying transient failures with exponential backoff and
// jitter for up to Options.RetryFor. Errors of other kinds are returned as
// they are; running out of retries gives an error wrapping both
// eventstore.ErrUnavailable and the last failure. A call cut short by Close
// gives ErrClosed.
func do[T any](s *Store, ctx context.Context, op string, fn func(ctx context.Context, c *esdb.Client) (T, error)) (T, error) {
	var zero T
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	deadline := time.Now().Add(s.opts.RetryFor)
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		v, c, err := call(s, ctx, fn)
		if err == nil {
			return v, nil
		}
		if s.isClosed() {
			return zero, eventstore.ErrClosed
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		kind := classify(err)
		if kind != errTransient && kind != errClientDead {
			return zero, err
		}
		if kind == errClientDead {
			s.replace(c)
		}
		if time.Now().Add(backoff).After(deadline) {
			return zero, fmt.Errorf("kurrentdb: %s: %w after %d attempts over %s: %w", op, eventstore.ErrUnavailable, attempt, s.opts.RetryFor, err)
		}
		s.opts.Logger.Debug("kurrentdb: retrying", "op", op, "attempt", attempt, "err", err)
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if s.isClosed() {
				return zero, eventstore.ErrClosed
			}
			return zero, ctx.Err()
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// serverName is stream's name on the server.
func (s *Store) serverName(stream string) string { return s.opts.Namespace + stream }

// ledgerName is the ledger's name for a server stream, and whether the
// stream is one of the ledger's.
func (s *Store) ledgerName(server string) (string, bool) {
	if strings.HasPrefix(server, "$") {
		return "", false
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(server, p) {
			return server[len(s.opts.Namespace):], true
		}
	}
	return "", false
}

func (s *Store) deadline() *time.Duration {
	d := s.opts.OperationTimeout
	return &d
}

var _ eventstore.Store = (*Store)(nil)
