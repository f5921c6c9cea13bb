package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

func TestCheckpointRoute(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	var kept []*checkpoint.Checkpoint
	ts := newTestServer(t, func(c *api.Config) {
		c.SigningKey = key
		c.KeepCheckpoint = func(c *checkpoint.Checkpoint) error {
			kept = append(kept, c)
			return nil
		}
	})
	pid := ts.registerPractitioner("Alex Example")
	ts.event(pid, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)

	r := ts.do("POST", "/v1/checkpoints", api.RoleAuditor, "")
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	c, err := checkpoint.Open(r.body, pub)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), c.Statement.Events)
	require.Len(t, c.Heads, 1)
	assert.Equal(t, "practitioner-"+pid, c.Heads[0].Stream)
	assert.Equal(t, uint64(1), c.Heads[0].Revision)
	rep, err := checkpoint.Against(t.Context(), ts.store, c)
	require.NoError(t, err)
	assert.True(t, rep.OK)
	require.Len(t, kept, 1, "the server keeps what it hands out")
	assert.Equal(t, c.Statement, kept[0].Statement)

	t.Run("a body is refused", func(t *testing.T) {
		r := ts.do("POST", "/v1/checkpoints", api.RoleAdmin, `{"x":1}`)
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Len(t, kept, 1)
	})
	t.Run("reviewers may not", func(t *testing.T) {
		r := ts.do("POST", "/v1/checkpoints", api.RoleReviewer, "")
		assert.Equal(t, http.StatusForbidden, r.status)
	})
}

func TestCheckpointRouteWithoutAKey(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("POST", "/v1/checkpoints", api.RoleAdmin, "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, string(r.body), "no signing key")
}

func TestBackupRoute(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	for range 5 {
		ts.event(pid, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)
	}
	r := ts.do("GET", "/v1/admin/backup", api.RoleAdmin, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, strconv.Itoa(len(r.body)), r.header.Get("Content-Length"))
	path := filepath.Join(t.TempDir(), "events.db")
	require.NoError(t, os.WriteFile(path, r.body, 0o600))
	s, err := bolt.Open(path, bolt.Options{})
	require.NoError(t, err)
	defer s.Close()
	rep, err := eventstore.Verify(t.Context(), s)
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.Equal(t, 6, rep.EventsChecked)

	assert.Equal(t, http.StatusForbidden, ts.do("GET", "/v1/admin/backup", api.RoleAuditor, "").status)
}
