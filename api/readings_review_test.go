package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// Two readings a review of rulebook v1.1 pinned, tried through the HTTP API
// as a new user would: which organisations' licences meet a member's
// current-licence duty, and what an exception reinstatement does.

// traineeAt registers a practitioner in org, with its senior leadership's
// support from 2024-01-11, who starts a Lead Professional traineeship on
// 2024-03-01 with no licence of their own.
func (ts *testServer) traineeAt(org, name string) string {
	ts.t.Helper()
	pid := ts.registerPractitioner(name)
	ts.joinWithSupport(pid, org, "2024-01-11")
	ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)
	return pid
}

// TestReadingSchoolHeldLicenceNeedsARegisteredService (DOMAIN.md: "or by a
// current Level 3 A or organisational licence held by a registered
// organisation they belong to on that date."; older seed: "only licence
// professionals as Lead Practitioners if they are working with a
// registered school or service"): a school's licence counts only while the
// school is a registered service (registered_service true) on the date.
func TestReadingSchoolHeldLicenceNeedsARegisteredService(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.traineeAt(school, "Kit Example")
	duty := func(on string) map[string]any {
		t.Helper()
		r := requirement(ts.view(pid, on), "trainee_lead_professional.current_licence")
		require.NotNil(t, r, "the current-licence duty is reported on %s", on)
		return r
	}

	t.Run("a licence held by a school that is not a registered service does not count", func(t *testing.T) {
		other := ts.registerOrg("Beckside Academy", false)
		ts.joinWithSupport(pid, other, "2024-01-20")
		// Within the rules a school that is not a registered service is
		// refused a Level 3 A licence; one granted as an exception is on
		// record all the same.
		r := ts.post("organisations/"+other, "LicenceGranted", "2024-02-01", `{"licence_id":"BCK-3A","kind":"level3a","valid_until":"2025-01-31","exception":true,`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		d := duty("2024-03-10")
		assert.Equal(t, false, d["met"], "v1.1 before the review counted any registered organisation's licence")
		assert.Contains(t, d["missing"], "licence BCK-3A is held by an organisation that is not a registered service on 2024-03-10")
	})
	t.Run("a school registered as a service counts only from its registration", func(t *testing.T) {
		r := ts.do("POST", "/v1/organisations", api.RoleAdmin, fmt.Sprintf(`{"occurred_on":"2024-06-01","data":{"name":%q,"kind":"service","registered_service":true}}`, "Tarn Family Service"))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		later := r.json(t)["id"].(string)
		ts.joinWithSupport(pid, later, "2024-01-20")
		r = ts.post("organisations/"+later, "LicenceGranted", "2024-02-01", `{"licence_id":"TFS-ORG","kind":"organisational","valid_until":"2025-01-31",`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		assert.Equal(t, false, duty("2024-05-31")["met"], "not yet a registered service")
		assert.Equal(t, true, duty("2024-06-01")["met"], "a registered service from 2024-06-01")
	})
	t.Run("a licence held by a registered service counts", func(t *testing.T) {
		r := ts.post("organisations/"+school, "LicenceGranted", "2024-02-01", `{"licence_id":"SCH-3A","kind":"level3a","valid_until":"2025-01-31",`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		assert.Equal(t, true, duty("2024-03-10")["met"])
	})
}

// TestReadingExceptionReinstatementTakesEffect (DOMAIN.md: "A decision may
// go against the rules (exceptional circumstances) only with a rationale;
// such decisions are **exceptions** and go to the QC queue first."): a
// withdrawn role or a revoked licence is not reinstated within the rules
// (422, the evaluation says why, nothing stored); recorded as an exception
// the reinstatement is queued and restores it.
func TestReadingExceptionReinstatementTakesEffect(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.trainee(school)
	p := "practitioners/" + pid
	ts.yearKeptUp(pid, "2024-03-01", 12)
	r := ts.post(p, "CertificationAwarded", "2025-03-01", award)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	ts.yearKeptUp(pid, "2025-03-01", 3)
	r = ts.post(p, "CertificationWithdrawn", "2025-04-01", `{"role":"lead_professional","reason":"left the programme",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.Equal(t, "withdrawn", standingOf(ts.view(pid, "2025-04-02")))

	inQueue := func(id string) bool {
		t.Helper()
		r := ts.do("GET", "/v1/decisions?status=exception", api.RoleReviewer, "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		return strings.Contains(string(r.body), id)
	}
	reinstate := func(typ, on, data string) (refusal map[string]any, id string) {
		t.Helper()
		before := ts.count()
		r := ts.post(p, typ, on, data+`,`+dec+`}`)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "within the rules: %s", r.body)
		assert.Equal(t, before, ts.count(), "a refusal stores nothing")
		refusal = r.json(t)["error"].(map[string]any)["evaluation"].(map[string]any)["requirements"].([]any)[0].(map[string]any)
		r = ts.post(p, typ, on, data+`,"exception":true,`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "as an exception: %s", r.body)
		id = r.json(t)["event_id"].(string)
		assert.True(t, inQueue(id), "the exception is in the QC queue")
		return refusal, id
	}

	t.Run("a withdrawn role", func(t *testing.T) {
		refusal, _ := reinstate("CertificationReinstated", "2025-04-10", `{"role":"lead_professional","reason":"withdrawn in error"`)
		assert.Equal(t, "role_status", refusal["name"])
		assert.Contains(t, refusal["missing"], "Lead Professional certification is withdrawn: within the rules only a suspended (or lapsed) one is reinstated; a reinstatement recorded as an exception, with a rationale, restores it")
		v := ts.view(pid, "2025-04-11")
		assert.Equal(t, "good", standingOf(v), "v1.1 before the review left it withdrawn: %v", v["standing"])
		assert.Contains(t, v["roles"], "lead_professional")
	})
	t.Run("a revoked licence", func(t *testing.T) {
		lid := "T-3A-" + pid[:8]
		r := ts.post(p, "LicenceRevoked", "2025-04-20", `{"licence_id":"`+lid+`","reason":"handed back",`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		require.Equal(t, "withdrawn", standingOf(ts.view(pid, "2025-04-21")))
		refusal, _ := reinstate("LicenceReinstated", "2025-04-25", `{"licence_id":"`+lid+`","reason":"revoked in error"`)
		assert.Equal(t, "licence_status", refusal["name"])
		assert.Contains(t, refusal["missing"], "licence "+lid+" is revoked: within the rules only a suspended (or lapsed) one is reinstated")
		v := ts.view(pid, "2025-04-26")
		assert.Equal(t, "good", standingOf(v), "%v", v["standing"])
		found := false
		for _, l := range v["licences"].([]any) {
			if m := l.(map[string]any); m["licence_id"] == lid {
				found = true
				assert.Equal(t, "active", m["status"])
			}
		}
		assert.True(t, found, "the licence is listed")
	})
}
