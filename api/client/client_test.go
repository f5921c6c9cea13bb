package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/api/client"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/projections"
)

// server is the real server on a loopback port over the embedded store,
// with one token per role.
type server struct {
	url    string
	store  *bolt.Store
	tokens map[api.Role]string
}

// start opens a server on a new data directory whose store first gets
// seed's appends.
func start(t *testing.T, cfg api.Config, seed func(eventstore.Store)) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{tokens: map[api.Role]string{}}
	tokens := auth.Open(dir)
	for _, r := range api.Roles {
		tok, err := tokens.Add(string(r)+"-1", r, 0)
		require.NoError(t, err)
		s.tokens[r] = tok
	}
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	require.NoError(t, err)
	if seed != nil {
		seed(store)
	}
	proj, err := projections.New(store, projections.Options{})
	require.NoError(t, err)
	cfg.Store, cfg.Projector, cfg.Tokens = store, proj, auth.Open(dir)
	srv, err := api.NewServer(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Open("127.0.0.1:0"))
	t.Cleanup(func() {
		require.NoError(t, srv.Close(context.Background()))
		require.NoError(t, store.Close())
	})
	s.url, s.store = srv.URL(), store
	return s
}

func (s *server) client(role api.Role) *client.Client {
	return client.New(s.url, s.tokens[role], &http.Client{Timeout: 30 * time.Second})
}

// register records a practitioner through the server's own route.
func register(t *testing.T, s *server, name string) uuid.UUID {
	t.Helper()
	body := fmt.Sprintf(`{"occurred_on":"2024-01-10","data":{"name":%q,"profession":"education"}}`, name)
	req, err := http.NewRequest(http.MethodPost, s.url+"/v1/practitioners", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.tokens[api.RoleAdmin])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
	var out struct{ ID uuid.UUID }
	require.NoError(t, json.Unmarshal(b, &out))
	return out.ID
}

// TestReads: the routes the CLI reads through, answered as the types the
// server encodes them from.
func TestReads(t *testing.T) {
	s := start(t, api.Config{}, nil)
	id := register(t, s, "Casey Fictional")
	c := s.client(api.RoleAuditor)
	ctx := t.Context()

	rep, err := c.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, eventstore.VerifyReport{OK: true, EventsChecked: 1}, rep)

	v, err := c.Practitioner(ctx, id, domain.MustDate("2024-06-01"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "Casey Fictional", v.Name)
	assert.Equal(t, id, v.ID)

	hist, err := c.History(ctx, projections.PractitionerStream(id), time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "PractitionerRegistered", hist[0].Type)
	hist, err = c.History(ctx, projections.PractitionerStream(id), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	require.Error(t, err, "not recorded yet in 2000")
	assert.Empty(t, hist)

	_, err = c.History(ctx, "ledger-metadata", time.Time{})
	assert.ErrorContains(t, err, "not a practitioner or organisation stream")
}

// TestEventsPages: every event comes back in global order across pages,
// byte for byte (the hash chains verify on what the client read).
func TestEventsPages(t *testing.T) {
	const n = client.EventsPage + 1
	s := start(t, api.Config{}, func(st eventstore.Store) {
		evs := make([]eventstore.EventData, n)
		for i := range evs {
			evs[i] = eventstore.EventData{ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01",
				RecordedBy: "Test Administrator", Data: []byte(`{"course":"foundation_b"}`)}
		}
		_, err := st.Append(context.Background(), "practitioner-"+uuid.NewString(), eventstore.NoStream(), evs...)
		require.NoError(t, err)
	})
	c := s.client(api.RoleAuditor)
	var last eventstore.Position
	count := 0
	for x, err := range c.Events(t.Context(), eventstore.Start) {
		require.NoError(t, err)
		require.Greater(t, x.Position, last)
		last = x.Position
		count++
	}
	assert.Equal(t, n, count)

	rep, err := eventstore.Verify(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, eventstore.VerifyReport{OK: true, EventsChecked: n}, rep)

	count = 0
	for _, err := range c.ReadAll(t.Context(), eventstore.Position(n-2)) {
		require.NoError(t, err)
		count++
	}
	assert.Equal(t, 2, count, "from a position on")
}

// TestErrors: a refusal is an *Error with the API's status, code and
// message.
func TestErrors(t *testing.T) {
	s := start(t, api.Config{}, nil)
	_, err := s.client(api.RoleReviewer).Verify(t.Context())
	var e *client.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusForbidden, e.StatusCode)
	assert.Equal(t, domain.EFORBIDDEN, e.Code)
	assert.NotEmpty(t, e.Message)
	assert.Equal(t, e.Message, err.Error())

	_, err = s.client(api.RoleAuditor).Practitioner(t.Context(), uuid.New(), domain.Date{}, time.Time{})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusNotFound, e.StatusCode)
	assert.Equal(t, domain.ENOTFOUND, e.Code)

	_, err = client.New(s.url, "ldg_not-a-token", nil).Verify(t.Context())
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.StatusCode)
}

// TestHealth: /healthz is asked without a token, and its body decodes
// into Health with no field left over.
func TestHealth(t *testing.T) {
	s := start(t, api.Config{}, nil)
	h, err := client.New(s.url, "", nil).Health(t.Context())
	require.NoError(t, err)
	assert.Contains(t, []string{"ok", "unavailable"}, h.Status, "ready, or the read models still building")
	assert.NotEmpty(t, h.Time)

	resp, err := http.Get(s.url + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&client.Health{}), "Health has every field /healthz writes")
}

// TestRebuild: an online rebuild is started and followed to its end.
func TestRebuild(t *testing.T) {
	s := start(t, api.Config{}, nil)
	register(t, s, "Casey Fictional")
	c := s.client(api.RoleAdmin)
	st, err := c.StartRebuild(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "running", st.State)
	require.NotNil(t, st.StartedAt)
	for st.State == "running" {
		time.Sleep(10 * time.Millisecond)
		st, err = c.Rebuild(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, "done", st.State)
	assert.Equal(t, uint64(1), st.EventsTotal)
}

// TestWaitsOutRateLimits: a 429 is waited out for its Retry-After and the
// request sent again, since nothing was done for it.
func TestWaitsOutRateLimits(t *testing.T) {
	s := start(t, api.Config{RateLimit: 1, RateBurst: 1}, nil)
	c := s.client(api.RoleAuditor)
	for range 2 {
		rep, err := c.Verify(t.Context())
		require.NoError(t, err, "the second call meets a 429 and waits")
		assert.True(t, rep.OK)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Verify(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a wait ends with its context")
}
