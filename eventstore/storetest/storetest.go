// Package storetest is the conformance suite every eventstore backend runs.
// Its one entry point, Run, checks each behaviour the eventstore.Store
// contract promises (ordering, expected revisions, idempotent retries,
// atomic multi-event appends, the hash chain, subscriptions across catch-up
// and live, concurrent writers, closing, and multi-stream appends on a store
// that offers them) against a fresh store per subtest.
//
// The package knows only the eventstore interface: it must not import a
// backend (bolt, kurrentdb), nor domain, projections or api. Backends call it
// from their own tests.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// opTimeout bounds every subtest's context, so that a store that deadlocks
// or never delivers an event fails the test instead of hanging it. It is
// generous because the suite runs under the race detector on small, shared
// machines with real fsyncs.
const opTimeout = 2 * time.Minute

// Run runs the conformance suite against the stores newStore opens, each
// behaviour as a named subtest. newStore must return a fresh, empty store
// (using t.TempDir or an equivalent for its data) and fail t if it cannot;
// the suite closes every store it opens before the subtest ends.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	h := harness{newStore: newStore}
	groups := []struct {
		name string
		run  func(*testing.T, harness)
	}{
		{"Append", testAppend},
		{"ExpectedRevision", testExpectedRevision},
		{"ReadStream", testReadStream},
		{"ReadAll", testReadAll},
		{"RoundTrip", testRoundTrip},
		{"Idempotency", testIdempotency},
		{"InvalidAppend", testInvalidAppend},
		{"Atomicity", testAtomicity},
		{"MultiAppend", testMultiAppend},
		{"HashChain", testHashChain},
		{"Subscribe", testSubscribe},
		{"Concurrency", testConcurrency},
		{"Close", testClose},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, h) })
	}
}

type harness struct {
	newStore func(t *testing.T) eventstore.Store
}

// open returns a fresh store that is closed when t ends. Tests that close it
// themselves close the wrapper, so the backend sees exactly one Close.
func (h harness) open(t *testing.T) eventstore.Store {
	t.Helper()
	inner := h.newStore(t)
	require.NotNil(t, inner, "newStore returned a nil store")
	s := &onceClosed{Store: inner}
	t.Cleanup(func() { assert.NoError(t, s.Close(), "closing the store") })
	return s
}

type onceClosed struct {
	eventstore.Store
	once sync.Once
	err  error
}

func (s *onceClosed) Close() error {
	s.once.Do(func() { s.err = s.Store.Close() })
	return s.err
}

// testContext returns a context that ends when t ends or after opTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

var eventSeq atomic.Uint64

// Event returns a valid event of type typ with a unique ID and a payload
// that differs from every other event's, about an obviously fictional
// adult: the event every store test appends.
func Event(typ string) eventstore.EventData {
	n := eventSeq.Add(1)
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredOn:    "2024-03-01",
		RecordedBy:    "admin:storetest",
		Data:          fmt.Appendf(nil, `{"seq":%d,"practitioner":"Test Practitioner %d"}`, n, n),
		Metadata:      []byte(`{"source":"storetest"}`),
	}
}

// newEvents returns n events of type typ.
func newEvents(n int, typ string) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event(typ)
	}
	return out
}

// mustAppend appends and fails the test on error.
func mustAppend(t *testing.T, ctx context.Context, s eventstore.Store, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, expected, events...)
	require.NoError(t, err, "append to %s (expected %s)", stream, expected)
	return res
}

// ReadAll returns every event r holds, in global order, failing the test
// on an error.
func ReadAll(t testing.TB, r eventstore.AllReader) []eventstore.RecordedEvent {
	t.Helper()
	out, err := collectAll(context.Background(), r, eventstore.Start)
	require.NoError(t, err, "ReadAll")
	return out
}

// readAll collects ReadAll(from), failing the test on an error.
func readAll(t *testing.T, ctx context.Context, s eventstore.Store, from eventstore.Position) []eventstore.RecordedEvent {
	t.Helper()
	out, err := collectAll(ctx, s, from)
	require.NoError(t, err, "ReadAll from %d", from)
	return out
}

// collectAll is readAll for goroutines that must not call t.FailNow.
func collectAll(ctx context.Context, s eventstore.AllReader, from eventstore.Position) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for e, err := range s.ReadAll(ctx, from) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// readStream reads the whole stream, failing the test on an error.
func readStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(ctx, stream, eventstore.ReadOptions{})
	require.NoError(t, err, "ReadStream %s", stream)
	return evs
}

// assertStored checks that got is the stored form of want.
func assertStored(t *testing.T, want eventstore.EventData, got eventstore.RecordedEvent) {
	t.Helper()
	sv := want.SchemaVersion
	if sv == 0 {
		sv = 1
	}
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.Type, got.Type, "Type of %s", want.ID)
	assert.Equal(t, sv, got.SchemaVersion, "SchemaVersion of %s", want.ID)
	assert.Equal(t, want.OccurredOn, got.OccurredOn, "OccurredOn of %s", want.ID)
	assert.Equal(t, want.RecordedBy, got.RecordedBy, "RecordedBy of %s", want.ID)
	// Compared as strings so that nil and empty payloads are the same and a
	// difference prints readably.
	assert.Equal(t, string(want.Data), string(got.Data), "Data of %s", want.ID)
	assert.Equal(t, string(want.Metadata), string(got.Metadata), "Metadata of %s", want.ID)
	if !want.RecordedAt.IsZero() {
		assert.True(t, want.RecordedAt.Equal(got.RecordedAt), "RecordedAt of %s: want %s, got %s", want.ID, want.RecordedAt, got.RecordedAt)
	}
}

// ids returns the IDs of evs in order.
func ids(evs []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// dataIDs returns the IDs of evs in order.
func dataIDs(evs []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// assertIncreasingPositions checks that positions grow strictly and lie
// after Start.
func assertIncreasingPositions(t *testing.T, evs []eventstore.RecordedEvent) {
	t.Helper()
	prev := eventstore.Start
	for i, e := range evs {
		if !assert.Greater(t, e.Position, prev, "position of event %d (%s) must follow %d", i, e.ID, prev) {
			return
		}
		prev = e.Position
	}
}

// assertContiguous checks that a stream's events count their revisions from 0
// without gaps and all name the stream.
func assertContiguous(t *testing.T, stream string, evs []eventstore.RecordedEvent) {
	t.Helper()
	for i, e := range evs {
		if !assert.Equal(t, uint64(i), e.Revision, "revision of event %d of %s", i, stream) {
			return
		}
		assert.Equal(t, stream, e.Stream, "stream of event %d", i)
	}
}

// assertUnchanged checks that the store still holds exactly the events
// before, in the same order: a rejected append stored nothing.
func assertUnchanged(t *testing.T, ctx context.Context, s eventstore.Store, before []eventstore.RecordedEvent) {
	t.Helper()
	after := readAll(t, ctx, s, eventstore.Start)
	assert.Equal(t, ids(before), ids(after), "the store's events changed")
}

// expectAfter is the expected revision of a stream that holds n events.
func expectAfter(n int) eventstore.ExpectedRevision {
	if n == 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exact(uint64(n - 1))
}
