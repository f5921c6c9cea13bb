package api_test

import (
	"context"
	"iter"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/projections"
)

// slowReads is a store whose ReadAll and Subscribe start only once open is
// closed: the read models' first build, or their catch-up from a snapshot,
// just after a start, is held until the test lets it go.
type slowReads struct {
	eventstore.Store
	open <-chan struct{}
}

func (s slowReads) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		select {
		case <-s.open:
		case <-ctx.Done():
			yield(eventstore.RecordedEvent{}, ctx.Err())
			return
		}
		for e, err := range s.Store.ReadAll(ctx, from) {
			if !yield(e, err) {
				return
			}
		}
	}
}

// Subscribe starts as late: the read models catch up that late.
func (s slowReads) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	select {
	case <-s.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.Subscribe(ctx, from, fn)
}

// buildsAfter holds the server's read models' build until the test closes
// open (no clock decides whether it comes before a query's wait ends), and
// lets queries wait for them at most wait.
func buildsAfter(t *testing.T, open <-chan struct{}, wait time.Duration) serverOption {
	return buildsFrom(t, open, "", wait, nil)
}

// buildsFrom is buildsAfter with the models loaded from the snapshot at
// snapshot (none if "") and caught up only once open is closed, and waiting
// called whenever a query is about to wait for them.
func buildsFrom(t *testing.T, open <-chan struct{}, snapshot string, wait time.Duration, waiting func()) serverOption {
	return func(c *api.Config) {
		proj, err := projections.New(slowReads{Store: c.Store, open: open},
			projections.Options{SnapshotPath: snapshot, Waiting: waiting})
		require.NoError(t, err)
		c.Projector, c.ReadYourWritesWait = proj, wait
	}
}

// heldBuild holds the read models' build, or their catch-up from a
// snapshot, until a query is waiting for them: the query is sure to come
// while the build is in progress, whatever the machine's speed.
type heldBuild struct {
	open, waiting chan struct{}
	once          sync.Once
}

// holdBuild returns a held build and the server option that applies it,
// with the models loaded from the snapshot at snapshot (none if "").
func holdBuild(t *testing.T, snapshot string) (*heldBuild, serverOption) {
	h := &heldBuild{open: make(chan struct{}), waiting: make(chan struct{})}
	t.Cleanup(h.release) // runs before the server stops
	return h, buildsFrom(t, h.open, snapshot, 5*time.Second, func() { h.once.Do(func() { close(h.waiting) }) })
}

func (h *heldBuild) release() {
	select {
	case <-h.open:
	default:
		close(h.open)
	}
}

// get sends GET path as an auditor, lets the build go once the request
// waits for it, and returns the answer.
func (h *heldBuild) get(t *testing.T, ts *testServer, path string) response {
	t.Helper()
	var r response
	done := make(chan struct{})
	go func() {
		defer close(done)
		r = ts.do("GET", path, api.RoleAuditor, "")
	}()
	select {
	case <-h.waiting:
	case <-done:
		t.Fatalf("answered without waiting for the held build: %d %s", r.status, r.body)
	}
	h.release()
	<-done
	return r
}

// TestQueriesJustAfterStart: a query that comes while the read models are
// still being built waits for them; if they take longer than the server
// waits, it is a 503 with Retry-After (never a 500), and an organisation's
// decision, whose evaluation needs the members the models list, is refused
// the same way with nothing stored, rather than evaluated as if the
// organisation had no members.
func TestQueriesJustAfterStart(t *testing.T) {
	t.Run("waits for the build", func(t *testing.T) {
		ts := newTestServer(t)
		ts.registerPractitioner("Alex Example")
		build, held := holdBuild(t, "")
		ts.restart(held)
		r := build.get(t, ts, "/v1/practitioners")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.Len(t, r.json(t)["items"], 1)
	})
	t.Run("503 past the wait", func(t *testing.T) {
		ts := newTestServer(t)
		oid := ts.registerOrganisation("Hillside Demo School")
		open := make(chan struct{})
		t.Cleanup(func() { close(open) }) // runs before the server stops
		ts.restart(buildsAfter(t, open, 50*time.Millisecond))
		r := ts.do("GET", "/v1/decisions", api.RoleAuditor, "")
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
		assert.Equal(t, "unavailable", r.errCode(t))
		assert.Equal(t, "1", r.header.Get("Retry-After"))

		before := ts.count()
		r = ts.do("POST", "/v1/organisations/"+oid+"/events", api.RoleAdmin,
			`{"type":"LicenceGranted","occurred_on":"2024-02-01","data":{"licence_id":"L-O","kind":"organisational","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`)
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
		assert.Equal(t, before, ts.count(), "nothing stored")
	})
}

// TestQueriesAfterRestartSeeTheWholeStore: events the read models' snapshot
// does not hold (written after it, as by a server killed before its next
// snapshot) are caught up in the background after a start; a query in the
// meantime waits for them rather than answering from the snapshot.
func TestQueriesAfterRestartSeeTheWholeStore(t *testing.T) {
	ts := newTestServer(t)
	first := ts.registerPractitioner("Alex Example")
	ts.stop() // the snapshot holds Alex

	store, err := bolt.Open(filepath.Join(ts.dir, "events.db"), bolt.Options{})
	require.NoError(t, err)
	batch := api.NewBatch(store, nil)
	rec, err := batch.Recorder().Register(t.Context(), api.Principal{Name: "admin-1", Role: api.RoleAdmin}, domain.PractitionerStream,
		api.Proposal{OccurredOn: "2024-01-10", Data: []byte(`{"name":"Sam Sample","profession":"health"}`)})
	require.NoError(t, err)
	require.NoError(t, batch.Commit(t.Context(), nil))
	require.NoError(t, store.Close())
	second := strings.TrimPrefix(rec.Stream, "practitioner-")

	build, held := holdBuild(t, filepath.Join(ts.dir, "projections.snapshot"))
	ts.start(held)
	r := build.get(t, ts, "/v1/practitioners")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Contains(t, string(r.body), first)
	assert.Contains(t, string(r.body), second, "the practitioner the snapshot does not hold is listed")
}

// TestStopSnapshotsWhatWasAcknowledged: a graceful stop lets the read
// models take in every acknowledged append before their snapshot, so the
// snapshot alone lists what was written just before the stop.
func TestStopSnapshotsWhatWasAcknowledged(t *testing.T) {
	ts := newTestServer(t)
	var ids []string
	for _, name := range []string{"Alex Example", "Sam Sample", "Jo Demo"} {
		ids = append(ids, ts.registerPractitioner(name))
	}
	ts.stop()

	store, err := bolt.Open(filepath.Join(ts.dir, "events.db"), bolt.Options{})
	require.NoError(t, err)
	defer store.Close()
	proj, err := projections.New(store, projections.Options{SnapshotPath: filepath.Join(ts.dir, "projections.snapshot")})
	require.NoError(t, err)
	require.True(t, proj.Loaded(), "a snapshot was taken")
	page, err := proj.ListPractitioners(t.Context(), projections.Filter{Limit: 10}, domain.DateOf(time.Now().UTC()))
	require.NoError(t, err)
	var listed []string
	for _, it := range page.Items {
		listed = append(listed, it.ID.String())
	}
	assert.ElementsMatch(t, ids, listed)
}
