package api_test

import (
	"fmt"
	"net/http"
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
