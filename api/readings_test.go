package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// The readings of rulebook v1.1 (DOMAIN.md, "Rulebook v1.1: readings pinned
// after a review against the seeds"), tried as a new user would: through
// the HTTP API of the real server on a temporary store. Each test names the
// reading and the sentence it rests on.

const dec = `"decided_by":"Demo Panel","rationale":"Recorded for the test."`

// post posts one event of typ to a practitioner's or organisation's stream
// (path is "practitioners/<id>" or "organisations/<id>") and returns the
// response.
func (ts *testServer) post(path, typ, on, data string) response {
	ts.t.Helper()
	return ts.do("POST", "/v1/"+path+"/events", api.RoleAdmin, `{"type":"`+typ+`","occurred_on":"`+on+`","data":`+data+`}`)
}

// view reads a practitioner as of a date.
func (ts *testServer) view(pid, asOf string) map[string]any {
	ts.t.Helper()
	r := ts.do("GET", "/v1/practitioners/"+pid+"?as_of="+asOf, api.RoleAuditor, "")
	require.Equal(ts.t, http.StatusOK, r.status, "%s", r.body)
	return r.json(ts.t)
}

func standingOf(v map[string]any) string {
	return v["standing"].(map[string]any)["status"].(string)
}

// requirement returns the standing requirement named name, or nil.
func requirement(v map[string]any, name string) map[string]any {
	for _, r := range v["standing"].(map[string]any)["requirements"].([]any) {
		if m := r.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// unmetIn lists the unmet requirement names of a refusal's evaluation.
func unmetIn(t *testing.T, r response) []string {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	e := r.json(t)["error"].(map[string]any)
	var out []string
	for _, q := range e["evaluation"].(map[string]any)["requirements"].([]any) {
		if m := q.(map[string]any); m["met"] == false {
			out = append(out, m["name"].(string))
		}
	}
	return out
}

// registerOrg registers an organisation, a registered service or not.
func (ts *testServer) registerOrg(name string, registeredService bool) string {
	ts.t.Helper()
	r := ts.do("POST", "/v1/organisations", api.RoleAdmin, fmt.Sprintf(`{"occurred_on":"2024-01-08","data":{"name":%q,"kind":"school","registered_service":%v}}`, name, registeredService))
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(ts.t)["id"].(string)
}

// yearKeptUp records a trainee's or Lead Professional's yearly duties for
// the year from `from` (a date on the 1st of a month): practitioner
// development on the 15th of each of its first months but those in skip
// ("2024-06"), feedback, a log book update, an action plan with a budget,
// two registered Foundation A groups and linked CPD.
func (ts *testServer) yearKeptUp(pid, from string, months int, skip ...string) {
	ts.t.Helper()
	ts.dutiesOf(pid, from, months, skip...)
}

// trainee records, through the API and within the rules, a practitioner
// at a registered school who is accepted as a trainee Lead Professional,
// starts the traineeship on 2024-03-01 with a Level 3 A licence of their
// own, runs two registered Foundation A groups and keeps a log book. The
// trainee year's duties are left to the caller.
func (ts *testServer) trainee(school string) string {
	ts.t.Helper()
	pid := ts.registerPractitioner("Robin Example")
	p := "practitioners/" + pid
	ts.event(pid, "PractitionerJoinedOrganisation", "2024-01-11", `{"organisation_id":"`+school+`"}`)
	ts.event(pid, "SeniorLeadershipSupportRecorded", "2024-01-12", `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b", "intermediate_a", "intermediate_b", "facilitator_mechanics", "lead_professional", "study_supporter_preparation"} {
		ts.event(pid, "CourseCompleted", "2024-01-15", `{"course":"`+c+`"}`)
	}
	ts.event(pid, "ApplicationSubmitted", "2024-01-20", `{"application_id":"APP-1","role":"trainee_lead_professional"}`)
	ts.event(pid, "ReferenceReceived", "2024-01-22", `{"application_id":"APP-1","supportive":true}`)
	ts.event(pid, "ReferenceReceived", "2024-01-23", `{"application_id":"APP-1","supportive":true}`)
	ts.event(pid, "InterviewHeld", "2024-01-25", `{"application_id":"APP-1","outcome":"passed"}`)
	r := ts.post(p, "ApplicationDecided", "2024-02-01", `{"application_id":"APP-1","outcome":"accepted",`+dec+`}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)
	r = ts.post(p, "LicenceGranted", "2024-03-01", `{"licence_id":"T-3A-`+pid[:8]+`","kind":"level3a","valid_until":"2026-02-28",`+dec+`}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	ts.event(pid, "StudyGroupRun", "2024-05-01", `{"group_id":"G1","course":"foundation_a","registered":true}`)
	ts.event(pid, "StudyGroupRun", "2024-10-01", `{"group_id":"G2","course":"foundation_a","registered":true}`)
	ts.event(pid, "ReflectiveUpdateSubmitted", "2024-12-01", `{"kind":"log_book"}`)
	return pid
}

const award = `{"role":"lead_professional",` + dec + `}`

// TestReadingCertificationAfterTheTraineePeriod: Lead Professional
// certification within the rules, and each v1.1 requirement it adds.
func TestReadingCertificationAfterTheTraineePeriod(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)

	t.Run("a trainee who kept the year up is certified", func(t *testing.T) {
		// older seed: "On successful completion of the trainee period you
		// can become an approved member of our Lead Professional team."
		pid := ts.trainee(school)
		ts.yearKeptUp(pid, "2024-03-01", 12)
		r := ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-01", award)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		assert.Contains(t, ts.view(pid, "2025-03-02")["roles"], "lead_professional")
	})
	t.Run("a lapsed trainee period is refused", func(t *testing.T) {
		// DOMAIN.md: "Lead Professional certification needs the traineeship
		// to be at least one year old *and* not lapsed, suspended or
		// withdrawn on the decision date"
		pid := ts.trainee(school)
		ts.yearKeptUp(pid, "2024-03-01", 12, "2024-07")
		before := ts.count()
		assert.Equal(t, []string{"trainee_period_in_standing"}, unmetIn(t, ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-01", award)))
		assert.Equal(t, before, ts.count(), "nothing stored")
		assert.Equal(t, "lapsed", standingOf(ts.view(pid, "2025-03-01")))
	})
	t.Run("a trainee no longer at a registered school or service is refused", func(t *testing.T) {
		// older seed: "we have made a current decision to only licence
		// professionals as Lead Practitioners if they are working with a
		// registered school or service"
		pid := ts.trainee(school)
		ts.yearKeptUp(pid, "2024-03-01", 12)
		other := ts.registerOrg("Beckside Academy", false)
		ts.event(pid, "PractitionerLeftOrganisation", "2025-03-01", `{"organisation_id":"`+school+`"}`)
		ts.event(pid, "PractitionerJoinedOrganisation", "2025-03-01", `{"organisation_id":"`+other+`"}`)
		assert.Contains(t, unmetIn(t, ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-02", award)), "registered_school_or_service")
	})
	t.Run("groups that were not registered do not count", func(t *testing.T) {
		// older seed: "We make no additional charge for these groups though
		// they should be registered with us."
		pid := ts.registerPractitioner("Sam Example")
		ts.event(pid, "StudyGroupRun", "2024-05-01", `{"group_id":"G1","course":"foundation_a"}`)
		ts.event(pid, "StudyGroupRun", "2024-06-01", `{"group_id":"G2","course":"foundation_b","registered":true}`)
		ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)
		assert.Contains(t, unmetIn(t, ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-02", award)), "two_groups_run")
	})
}

// TestReadingEveryPeriodKindCanLapse: a missed month of practitioner
// development lapses at the year's end and stays lapsed into the new year
// until a reinstatement (DOMAIN.md: "a lapse on a missed month or a
// standing fact clears only by a decision").
func TestReadingEveryPeriodKindCanLapse(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.trainee(school)
	ts.yearKeptUp(pid, "2024-03-01", 12)
	r := ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-01", award)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	ts.yearKeptUp(pid, "2025-03-01", 12, "2025-06")
	ts.yearKeptUp(pid, "2026-03-01", 1)

	assert.Equal(t, "at_risk", standingOf(ts.view(pid, "2025-07-01")), "a month gone by: at risk in the year")
	v := ts.view(pid, "2026-04-01")
	assert.Equal(t, "lapsed", standingOf(v), "v1 said good: the new year's months are all kept")
	req := requirement(v, "lead_professional.previous_year.monthly_practitioner_development")
	require.NotNil(t, req, "the lapse says why")
	assert.Equal(t, false, req["met"])

	r = ts.post("practitioners/"+pid, "CertificationReinstated", "2026-04-02", `{"role":"lead_professional","reason":"June's session made good in July",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "a lapsed role is reinstated within the rules: %s", r.body)
	assert.NotEqual(t, "lapsed", standingOf(ts.view(pid, "2026-04-03")))
}

// TestReadingSuspensionOfAnythingHeld: a suspended Informed Practitioner
// certification makes standing suspended and takes a listed trainee off
// the directory (DOMAIN.md: "Suspending or withdrawing any certified role
// (informed practitioner, link, senior link, …) or any practitioner-held
// licence makes standing").
func TestReadingSuspensionOfAnythingHeld(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	// Dated from today backwards: the directory is as of today.
	day := func(daysAgo int) string { return time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	pid := ts.registerPractitioner("Jo Example")
	p := "practitioners/" + pid
	ts.event(pid, "PractitionerJoinedOrganisation", day(30), `{"organisation_id":"`+school+`"}`)
	ts.event(pid, "SeniorLeadershipSupportRecorded", day(30), `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
	ts.event(pid, "TraineeshipStarted", day(20), `{"role":"lead_professional"}`)
	require.Equal(t, http.StatusCreated, ts.post(p, "LicenceGranted", day(20), `{"licence_id":"T-3A","kind":"level3a","valid_until":"`+day(-340)+`","exception":true,`+dec+`}`).status)
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationAwarded", day(10), `{"role":"informed_practitioner","exception":true,`+dec+`}`).status)
	ts.event(pid, "DirectoryListingConsented", day(10), `{"directory":"informed"}`)
	listed := func() bool {
		r := ts.do("GET", "/v1/directory", "", "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		return strings.Contains(string(r.body), "Jo Example")
	}
	require.True(t, listed(), "a consenting trainee in good standing is listed")

	r := ts.post(p, "CertificationSuspended", day(1), `{"role":"informed_practitioner","reason":"under review",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, "suspended", standingOf(ts.view(pid, day(0))), "v1 said good")
	assert.False(t, listed(), "a suspended practitioner is off the directory")
}

// TestReadingNoReaward: a suspended role is not awarded again, a licence_id
// is not granted twice, and next steps never offer either as ready
// (DOMAIN.md: "a suspended role or licence comes back by reinstatement, a
// lapse by meeting the requirement, a licence continues by renewal.").
func TestReadingNoReaward(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	p := "practitioners/" + pid
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
		ts.event(pid, "CourseCompleted", "2024-02-01", `{"course":"`+c+`"}`)
	}
	ip := `{"role":"informed_practitioner",` + dec + `}`
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationAwarded", "2024-03-01", ip).status)
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationSuspended", "2024-04-01", `{"role":"informed_practitioner","reason":"under review",`+dec+`}`).status)

	before := ts.count()
	assert.Equal(t, []string{"not_already_certified"}, unmetIn(t, ts.post(p, "CertificationAwarded", "2024-05-01", ip)))
	assert.Equal(t, before, ts.count())
	for _, s := range ts.view(pid, "2024-05-01")["next_steps"].([]any) {
		step := s.(map[string]any)
		if step["decision"] == "CertificationAwarded" && step["role"] == "informed_practitioner" {
			assert.Equal(t, false, step["ready"], "next steps never offer a re-award as ready")
		}
	}
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationReinstated", "2024-05-01", `{"role":"informed_practitioner","reason":"review closed",`+dec+`}`).status,
		"a suspended role comes back by reinstatement")

	inf := `{"licence_id":"INF-1","kind":"informal_use","valid_until":"2024-12-31",` + dec + `}`
	require.Equal(t, http.StatusCreated, ts.post(p, "LicenceGranted", "2024-03-01", inf).status)
	assert.Equal(t, []string{"licence_id_not_granted"}, unmetIn(t, ts.post(p, "LicenceGranted", "2025-02-01", strings.Replace(inf, "2024-12-31", "2025-12-31", 1))))
	r := ts.post(p, "LicenceRenewed", "2025-02-01", `{"licence_id":"INF-1","valid_until":"2025-12-31","exception":true,`+dec+`}`)
	assert.Equal(t, http.StatusCreated, r.status, "a licence continues by renewal: %s", r.body)
}

// TestReadingLevel3ApplicantsStartAsTrainees (older seed: "All of the
// professionals who apply for a license at Level 3 as Lead Professional
// Facilitators and study supporters start out as Trainees").
func TestReadingLevel3ApplicantsStartAsTrainees(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.registerPractitioner("Sam Example")
	p := "practitioners/" + pid
	ts.event(pid, "PractitionerJoinedOrganisation", "2024-01-11", `{"organisation_id":"`+school+`"}`)
	ts.event(pid, "SeniorLeadershipSupportRecorded", "2024-01-12", `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b", "intermediate_a", "study_supporter_preparation"} {
		ts.event(pid, "CourseCompleted", "2024-01-15", `{"course":"`+c+`"}`)
	}
	grant := `{"licence_id":"L-3A","kind":"level3a","valid_until":"2025-02-28",` + dec + `}`
	assert.Equal(t, []string{"trainee_or_lead_professional"}, unmetIn(t, ts.post(p, "LicenceGranted", "2024-03-01", grant)))
	ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)
	r := ts.post(p, "LicenceGranted", "2024-03-01", grant)
	assert.Equal(t, http.StatusCreated, r.status, "%s", r.body)
}

// TestReadingSchoolHeldLicencesCount (older seed: "3A licences are generally
// held by schools"): a trainee with no licence of their own meets the
// current-licence duty with their school's Level 3 A licence.
func TestReadingSchoolHeldLicencesCount(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.registerPractitioner("Kit Example")
	ts.event(pid, "PractitionerJoinedOrganisation", "2024-01-11", `{"organisation_id":"`+school+`"}`)
	ts.event(pid, "SeniorLeadershipSupportRecorded", "2024-01-12", `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
	ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)

	req := func() map[string]any {
		return requirement(ts.view(pid, "2024-03-10"), "trainee_lead_professional.current_licence")
	}
	require.NotNil(t, req())
	assert.Equal(t, false, req()["met"], "no licence yet")
	r := ts.post("organisations/"+school, "LicenceGranted", "2024-02-01", `{"licence_id":"SCH-3A","kind":"level3a","valid_until":"2025-01-31",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, true, req()["met"], "the school's current Level 3 A licence meets it")
}

// TestReadingRenewalJudgesTheLicenceYear (DOMAIN.md: "linked CPD anywhere in
// that year counts, whether the renewal is dated before, on or after that
// day."): linked CPD on the grant day counts for a renewal dated on the
// anniversary, as it counts in the licence year's standing.
func TestReadingRenewalJudgesTheLicenceYear(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Lee Example")
	p := "practitioners/" + pid
	// DOMAIN.md: "A requirement the seeds do not state (the specialist
	// licence's prerequisites, the community wheel's holders, ...) is
	// either dropped": a community wheel licence needs no hub or GP.
	r := ts.post(p, "LicenceGranted", "2024-03-01", `{"licence_id":"CW-1","kind":"community_wheel","valid_until":"2025-03-01",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	ts.event(pid, "CPDEngagementRecorded", "2024-03-01", `{"kind":"linked_cpd","hours":2}`)
	r = ts.post(p, "LicenceRenewed", "2025-03-01", `{"licence_id":"CW-1","valid_until":"2026-03-01",`+dec+`}`)
	assert.Equal(t, http.StatusCreated, r.status, "v1 refused this renewal: %s", r.body)
}

// TestReadingBeyondTheSeedsIsMarked: the Level 4 licence's senior-leadership
// support is a requirement the seeds do not state for Level 4; the
// refusal's evaluation says it is a "v1 reading".
func TestReadingBeyondTheSeedsIsMarked(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Max Example")
	r := ts.post("practitioners/"+pid, "LicenceGranted", "2024-03-01", `{"licence_id":"L4-1","kind":"level4","valid_until":"2025-03-01",`+dec+`}`)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	found := false
	for _, q := range r.json(t)["error"].(map[string]any)["evaluation"].(map[string]any)["requirements"].([]any) {
		if m := q.(map[string]any); m["name"] == "senior_leadership_support" {
			found = true
			assert.Contains(t, m["source"], "v1 reading")
		}
	}
	assert.True(t, found)
}
