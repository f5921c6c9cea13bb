package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// revalidate GETs path as an auditor with the tag a client holds: 304 with
// no body and the same tag while nothing changed.
func (ts *testServer) revalidate(t *testing.T, path, tag string) response {
	t.Helper()
	r := ts.do("GET", path, api.RoleAuditor, "", "If-None-Match", tag)
	if r.status == http.StatusNotModified {
		assert.Empty(t, r.body, "a 304 has no body")
		assert.Contains(t, tag, r.header.Get("ETag"), "a 304 repeats the tag")
		assert.Equal(t, "private, no-cache", r.header.Get("Cache-Control"))
	}
	return r
}

// TestETagsAndRevalidation reads each cacheable route, revalidates with its
// ETag (304, no body), then changes what the answer depends on and sees a
// full answer with a new tag.
func TestETagsAndRevalidation(t *testing.T) {
	ts := newTestServer(t)
	org := ts.registerOrganisation("Hillside Demo School")
	pid := ts.registerPractitioner("Alex Example")
	ts.event(pid, "PractitionerJoinedOrganisation", "2024-01-10", `{"organisation_id":"`+org+`"}`)
	dec := ts.event(pid, "LicenceGranted", "2024-02-01",
		`{"licence_id":"L-1","kind":"informal_use","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence, for the test.","exception":true}`)["event_id"].(string)

	paths := []string{
		"/v1/practitioners/" + pid,
		"/v1/practitioners/" + pid + "?as_of=2024-06-01",
		"/v1/practitioners/" + pid + "/history",
		"/v1/organisations/" + org + "/history",
		"/v1/practitioners",
		"/v1/licences",
		"/v1/decisions?status=all",
		"/v1/decisions/" + dec,
	}
	tags := map[string]string{}
	for _, p := range paths {
		r := ts.do("GET", p, api.RoleAuditor, "")
		require.Equal(t, http.StatusOK, r.status, "%s: %s", p, r.body)
		tag := r.header.Get("ETag")
		require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, tag, "%s: a strong ETag", p)
		assert.Equal(t, "private, no-cache", r.header.Get("Cache-Control"), p)
		tags[p] = tag

		assert.Equal(t, http.StatusNotModified, ts.revalidate(t, p, tag).status, "%s: unchanged", p)
		assert.Equal(t, http.StatusNotModified, ts.revalidate(t, p, `"other", W/`+tag).status, "%s: a list, weak form", p)
		assert.Equal(t, http.StatusOK, ts.revalidate(t, p, `"other"`).status, "%s: another tag", p)
	}
	again := ts.do("GET", paths[0], api.RoleAuditor, "")
	assert.Equal(t, tags[paths[0]], again.header.Get("ETag"), "the same answer, the same tag")
	assert.NotEqual(t, tags[paths[0]], tags[paths[1]], "as_of is part of the tag")
	kt := ts.do("GET", paths[0]+"?known_at=2999-01-01T00:00:00Z", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, kt.status, "%s", kt.body)
	assert.NotEqual(t, tags[paths[0]], kt.header.Get("ETag"), "known_at is part of the tag")

	// An organisation's new event changes its members' views, their list
	// and the organisation's history, not the practitioner's history.
	r := ts.do("POST", "/v1/organisations/"+org+"/events", api.RoleAdmin,
		`{"type":"LicenceGranted","occurred_on":"2024-02-01","data":{"licence_id":"L-O","kind":"organisational","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	for _, p := range paths {
		want := http.StatusOK
		if p == "/v1/practitioners/"+pid+"/history" {
			want = http.StatusNotModified
		}
		assert.Equal(t, want, ts.revalidate(t, p, tags[p]).status, "%s after the organisation's event", p)
	}
	// The practitioner's own event changes everything about them.
	ts.event(pid, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)
	for _, p := range paths {
		r := ts.revalidate(t, p, tags[p])
		if p == "/v1/organisations/"+org+"/history" {
			continue
		}
		assert.Equal(t, http.StatusOK, r.status, "%s after the practitioner's event", p)
		assert.NotEqual(t, tags[p], r.header.Get("ETag"), p)
	}
}

// TestCacheControl: authenticated answers, errors included, are private and
// revalidated each time; the public directory may be cached for a minute.
func TestCacheControl(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	for _, r := range []response{
		ts.do("GET", "/v1/practitioners/"+pid, api.RoleAuditor, ""),
		ts.do("GET", "/v1/practitioners/"+pid+"?as_of=1999-01-01", api.RoleAuditor, ""), // 404
		ts.doOffSpec("GET", "/v1/practitioners/"+pid, "", ""),                           // 401
		ts.do("GET", "/v1/verify", api.RoleReviewer, ""),                                // 403
	} {
		assert.Equal(t, "private, no-cache", r.header.Get("Cache-Control"), "%d %s", r.status, r.body)
	}
	d := ts.do("GET", "/v1/directory", "", "")
	require.Equal(t, http.StatusOK, d.status)
	assert.Equal(t, "public, max-age=60", d.header.Get("Cache-Control"))
	tag := d.header.Get("ETag")
	require.NotEmpty(t, tag)
	nm := ts.do("GET", "/v1/directory", "", "", "If-None-Match", tag)
	assert.Equal(t, http.StatusNotModified, nm.status)
	assert.Empty(t, nm.body)
}

// heldSubscription is a store whose subscription stops passing events on
// while held: the read models stay where they are while the store moves on
// (as for the moment between a commit and the models taking it in).
type heldSubscription struct {
	eventstore.Store
	mu   sync.Mutex
	held chan struct{} // nil: events pass
}

func (s *heldSubscription) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = make(chan struct{})
}

func (s *heldSubscription) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		close(s.held)
		s.held = nil
	}
}

func (s *heldSubscription) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	return s.Store.Subscribe(ctx, from, func(e eventstore.RecordedEvent) error {
		s.mu.Lock()
		h := s.held
		s.mu.Unlock()
		if h != nil {
			select {
			case <-h:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return fn(e)
	})
}

// TestDecisionTagOnlyForWhatTheModelsHold: a decision's re-evaluation reads
// the store, which can hold an event the read models have not taken in
// yet. Such an answer goes without an ETag: tagged with the models'
// position it would share its tag with the answer from before that event,
// and a client holding that one would be told 304 for an answer that has
// changed. Once the models catch up it is tagged again, with a new tag.
func TestDecisionTagOnlyForWhatTheModelsHold(t *testing.T) {
	hs := &heldSubscription{}
	ts := newTestServer(t, func(c *api.Config) {
		hs.Store = c.Store
		proj, err := projections.New(hs, projections.Options{})
		require.NoError(t, err)
		c.Projector = proj
	})
	pid := ts.registerPractitioner("Alex Example")
	dec := ts.event(pid, "LicenceGranted", "2024-02-01",
		`{"licence_id":"L-1","kind":"informal_use","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence, for the test.","exception":true}`)["event_id"].(string)
	path := "/v1/decisions/" + dec
	before := ts.do("GET", path, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, before.status, "%s", before.body)
	tag := before.header.Get("ETag")
	require.NotEmpty(t, tag)

	// A course completed before the decision's date, stored where the
	// server does not see it (another server of the same store, say).
	hs.hold()
	defer hs.release()
	data, v, err := domain.Encode(&domain.CourseCompleted{Course: domain.CourseFoundationAPart1})
	require.NoError(t, err)
	_, err = ts.store.Append(context.Background(), projections.PractitionerStream(uuid.MustParse(pid)), eventstore.Any(),
		eventstore.EventData{ID: uuid.New(), Type: "CourseCompleted", SchemaVersion: v, OccurredOn: "2024-01-15",
			RecordedBy: "admin-1", RecordedAt: time.Now().UTC(), Data: data})
	require.NoError(t, err)

	ahead := ts.do("GET", path, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, ahead.status, "%s", ahead.body)
	assert.NotEqual(t, before.body, ahead.body, "the re-evaluation read the new course")
	assert.Empty(t, ahead.header.Get("ETag"), "an answer from past the models' position is not tagged with it")

	hs.release()
	require.Eventually(t, func() bool {
		return ts.do("GET", path, api.RoleAuditor, "").header.Get("ETag") != ""
	}, 10*time.Second, 5*time.Millisecond, "tagged again once the models hold the course")
	after := ts.do("GET", path, api.RoleAuditor, "")
	assert.Equal(t, ahead.body, after.body)
	assert.NotEqual(t, tag, after.header.Get("ETag"))
	assert.Equal(t, http.StatusOK, ts.revalidate(t, path, tag).status, "the old tag no longer matches")
}
