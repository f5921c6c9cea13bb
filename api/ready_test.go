package api_test

import (
	"context"
	"iter"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// slowReads is a store whose ReadAll starts only after delay: the read
// models' first build, just after a start, takes that long.
type slowReads struct {
	eventstore.Store
	delay time.Duration
}

func (s slowReads) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		select {
		case <-time.After(s.delay):
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

// buildsSlowly makes the server's read models take delay to build, and
// lets queries wait for them at most wait.
func buildsSlowly(t *testing.T, delay, wait time.Duration) serverOption {
	return func(c *api.Config) {
		proj, err := projections.New(slowReads{Store: c.Store, delay: delay}, projections.Options{})
		require.NoError(t, err)
		c.Projector, c.ReadYourWritesWait = proj, wait
	}
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
		ts.restart(buildsSlowly(t, 300*time.Millisecond, 5*time.Second))
		r := ts.do("GET", "/v1/practitioners", api.RoleAuditor, "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.Len(t, r.json(t)["items"], 1)
	})
	t.Run("503 past the wait", func(t *testing.T) {
		ts := newTestServer(t)
		oid := ts.registerOrganisation("Hillside Demo School")
		ts.restart(buildsSlowly(t, 3*time.Second, 50*time.Millisecond))
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
