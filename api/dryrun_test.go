package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// TestDryRun takes events through the write path with ?dry_run=true: the
// answers are those of a real append (the same evaluation, the same
// refusals) and nothing is stored.
func TestDryRun(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Robin Sample")
	org := ts.registerOrganisation("Hillside Dry Run School")
	path := "/v1/practitioners/" + pid + "/events"
	grant := func(exception string) string {
		return `{"type":"LicenceGranted","occurred_on":"2024-05-01","data":{"licence_id":"L-DRY","kind":"level3a","valid_until":"2025-05-01","decided_by":"Demo Panel","rationale":"Checked first.","exception":` + exception + `}}`
	}

	t.Run("a refused decision is refused with its evaluation, and nothing is stored", func(t *testing.T) {
		before := ts.count()
		r := ts.do("POST", path+"?dry_run=true", api.RoleAdmin, grant("false"))
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
		e := r.json(t)["error"].(map[string]any)
		assert.Equal(t, "refused", e["code"])
		assert.Equal(t, false, e["evaluation"].(map[string]any)["met"])
		assert.Equal(t, before, ts.count())
	})
	t.Run("an exception gives the evaluation it would be stored with", func(t *testing.T) {
		before := ts.count()
		r := ts.do("POST", path+"?dry_run=true", api.RoleAdmin, grant("true"))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		m := r.json(t)
		assert.Equal(t, true, m["dry_run"])
		assert.Equal(t, "LicenceGranted", m["type"])
		assert.NotEmpty(t, m["rulebook_version"])
		ev := m["evaluation"].(map[string]any)
		assert.Equal(t, false, ev["met"])
		assert.NotEmpty(t, ev["requirements"])
		assert.Equal(t, before, ts.count())

		// The real append stores the same evaluation the dry run showed.
		real := ts.do("POST", path, api.RoleAdmin, grant("true"))
		require.Equal(t, http.StatusCreated, real.status, "%s", real.body)
		dec := ts.do("GET", "/v1/decisions/"+real.json(t)["event_id"].(string), api.RoleAuditor, "")
		require.Equal(t, http.StatusOK, dec.status, "%s", dec.body)
		assert.Equal(t, ev, dec.json(t)["evaluation"])
		assert.Equal(t, m["rulebook_version"], dec.json(t)["rulebook_version"])
	})
	t.Run("a plain fact passes with no evaluation", func(t *testing.T) {
		before := ts.count()
		r := ts.do("POST", path+"?dry_run=true", api.RoleAdmin, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.Nil(t, r.json(t)["evaluation"])
		assert.Equal(t, before, ts.count())
	})
	t.Run("bad input and bad references are refused as by a real append", func(t *testing.T) {
		before := ts.count()
		for _, c := range []struct {
			name, path, body string
			role             api.Role
			status           int
		}{
			{"unknown course", path, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"juggling"}}`, api.RoleAdmin, http.StatusBadRequest},
			{"unregistered organisation", path, `{"type":"PractitionerJoinedOrganisation","occurred_on":"2024-03-01","data":{"organisation_id":"00000000-0000-4000-8000-000000000001"}}`, api.RoleAdmin, http.StatusBadRequest},
			{"auditor", path, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, api.RoleAuditor, http.StatusForbidden},
			{"unknown practitioner", "/v1/practitioners/00000000-0000-4000-8000-000000000002/events", `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, api.RoleAdmin, http.StatusNotFound},
		} {
			r := ts.do("POST", c.path+"?dry_run=true", c.role, c.body)
			assert.Equal(t, c.status, r.status, "%s: %s", c.name, r.body)
		}
		r := ts.doOffSpec("POST", "/v1/organisations/"+org+"/events?dry_run=maybe", api.RoleAdmin, `{"type":"OrganisationRegistered","occurred_on":"2024-03-01","data":{}}`)
		assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
		assert.Equal(t, before, ts.count())
	})
}
