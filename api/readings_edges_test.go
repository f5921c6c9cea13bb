package api_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

// The edges of rulebook v1.1's readings, tried through the HTTP API as a
// new user would: the anniversary itself, a lapse that clears, a month
// missed in a year not yet over, a standing fact missing mid-year, the
// school's licence, re-awards taken as exceptions, renewals dated around
// valid_until. Each case quotes the sentence of DOMAIN.md (or a seed) it
// checks.

// dutiesOf records the yearly duties of a trainee or Lead Professional for
// the year from `from` (the 1st of a month), as yearKeptUp does, leaving
// out each duty named in omit: a month ("2024-06") of practitioner
// development, or "feedback", "log_book", "action_plan", "groups",
// "linked_cpd".
func (ts *testServer) dutiesOf(pid, from string, months int, omit ...string) {
	ts.t.Helper()
	start, err := time.Parse(time.DateOnly, from)
	require.NoError(ts.t, err)
	for m := 0; m < months; m++ {
		d := start.AddDate(0, m, 14).Format(time.DateOnly)
		if !slices.Contains(omit, d[:7]) {
			ts.event(pid, "CPDEngagementRecorded", d, `{"kind":"practitioner_development","hours":2}`)
		}
	}
	duty := func(name, typ, data string) {
		if !slices.Contains(omit, name) {
			ts.event(pid, typ, from, data)
		}
	}
	duty("feedback", "ParticipantFeedbackGathered", `{"group_id":"FB-1","responses":8}`)
	duty("log_book", "ReflectiveUpdateSubmitted", `{"kind":"log_book"}`)
	duty("action_plan", "ActionPlanSubmitted", fmt.Sprintf(`{"year":%d,"budget_included":true}`, start.Year()))
	duty("groups", "StudyGroupRun", `{"group_id":"Y1","course":"foundation_a","registered":true}`)
	duty("groups", "StudyGroupRun", `{"group_id":"Y2","course":"foundation_a","registered":true}`)
	duty("linked_cpd", "CPDEngagementRecorded", `{"kind":"linked_cpd","hours":3}`)
}

// joinWithSupport records that practitioner pid joined org on `on`, with
// its senior leadership's support.
func (ts *testServer) joinWithSupport(pid, org, on string) {
	ts.t.Helper()
	ts.event(pid, "PractitionerJoinedOrganisation", on, `{"organisation_id":"`+org+`"}`)
	ts.event(pid, "SeniorLeadershipSupportRecorded", on, `{"organisation_id":"`+org+`","endorsed_by":"Head Teacher"}`)
}

// standingCase is a standing asked for on a date, with what DOMAIN.md says
// it is.
type standingCase struct {
	cite   string
	on     string
	want   string
	unmet  string // a requirement that must be unmet, if any
	absent string // a requirement that must not be reported, if any
}

func (ts *testServer) checkStanding(t *testing.T, pid string, cases []standingCase) {
	t.Helper()
	for _, c := range cases {
		v := ts.view(pid, c.on)
		assert.Equal(t, c.want, standingOf(v), "%s on %s (%s): %v", pid, c.on, c.cite, v["standing"])
		if c.unmet != "" {
			r := requirement(v, c.unmet)
			if assert.NotNil(t, r, "%s on %s: %s reported (%s)", pid, c.on, c.unmet, c.cite) {
				assert.Equal(t, false, r["met"], "%s on %s: %s", pid, c.on, c.unmet)
			}
		}
		if c.absent != "" {
			assert.Nil(t, requirement(v, c.absent), "%s on %s: %s not reported (%s)", pid, c.on, c.absent, c.cite)
		}
	}
}

// TestReadingLapseEdges: when a lapse starts, and how each kind clears.
func TestReadingLapseEdges(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)

	t.Run("a count short lapses on the anniversary and clears when the new year meets it", func(t *testing.T) {
		pid := ts.trainee(school)
		ts.dutiesOf(pid, "2024-03-01", 12, "feedback")
		ts.dutiesOf(pid, "2025-03-01", 2, "feedback", "log_book", "action_plan", "groups", "linked_cpd")
		ts.checkStanding(t, pid, []standingCase{
			{cite: `issue 12: "makes standing ` + "`lapsed`" + ` on the anniversary and after"`, on: "2025-02-28", want: "at_risk", unmet: "trainee_lead_professional.participant_feedback"},
			{cite: `DOMAIN.md: "A certification year that ended with a requirement unmet makes standing ` + "`lapsed`" + `, whatever the requirement's kind: a count short"`, on: "2025-03-01", want: "lapsed", unmet: "trainee_lead_professional.previous_year.participant_feedback"},
			{cite: `DOMAIN.md: "A lapse on a count clears when the current year meets that count"`, on: "2025-04-20", want: "lapsed"},
		})
		ts.event(pid, "ParticipantFeedbackGathered", "2025-04-10", `{"group_id":"FB-2","responses":5}`)
		ts.checkStanding(t, pid, []standingCase{
			{cite: `DOMAIN.md: "A lapse on a count clears when the current year meets that count"`, on: "2025-04-20", want: "good", absent: "trainee_lead_professional.previous_year.participant_feedback"},
			{cite: `DOMAIN.md: "a count short"`, on: "2025-04-09", want: "lapsed"},
		})
	})

	t.Run("a month missed in the year not yet over is at risk, never lapsed", func(t *testing.T) {
		pid := ts.trainee(school)
		ts.dutiesOf(pid, "2024-03-01", 12, "2024-06")
		ts.checkStanding(t, pid, []standingCase{
			{cite: `DOMAIN.md: "A certification year that ended with a requirement unmet makes standing ` + "`lapsed`" + `"`, on: "2024-07-01", want: "at_risk", unmet: "trainee_lead_professional.monthly_practitioner_development"},
			{cite: `DOMAIN.md: "A certification year that ended with a requirement unmet makes standing ` + "`lapsed`" + `"`, on: "2025-02-28", want: "at_risk"},
			{cite: `DOMAIN.md: "a whole month without its practitioner-development session"`, on: "2025-03-01", want: "lapsed", unmet: "trainee_lead_professional.previous_year.monthly_practitioner_development"},
		})
	})

	t.Run("a standing fact missing mid-year but held at the year's end does not lapse", func(t *testing.T) {
		pid := ts.trainee(school)
		ts.dutiesOf(pid, "2024-03-01", 12)
		ts.event(pid, "PractitionerLeftOrganisation", "2024-06-01", `{"organisation_id":"`+school+`"}`)
		ts.event(pid, "PractitionerJoinedOrganisation", "2024-07-01", `{"organisation_id":"`+school+`"}`)
		ts.event(pid, "SeniorLeadershipSupportRecorded", "2024-07-02", `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
		ts.checkStanding(t, pid, []standingCase{
			{cite: `DOMAIN.md: "Standing facts count while they hold on the date asked"`, on: "2024-06-15", want: "at_risk", unmet: "trainee_lead_professional.registered_school_or_service"},
			{cite: `DOMAIN.md: "a standing fact (support, licence, registered service, indemnity) not holding at the year's end"`, on: "2025-03-10", want: "good"},
		})
	})

	t.Run("a standing fact not holding at the year's end lapses until a reinstatement", func(t *testing.T) {
		pid := ts.trainee(school)
		ts.dutiesOf(pid, "2024-03-01", 12)
		other := ts.registerOrg("Beckside Academy", false)
		ts.event(pid, "PractitionerLeftOrganisation", "2025-02-20", `{"organisation_id":"`+school+`"}`)
		ts.event(pid, "PractitionerJoinedOrganisation", "2025-02-20", `{"organisation_id":"`+other+`"}`)
		ts.event(pid, "PractitionerLeftOrganisation", "2025-03-03", `{"organisation_id":"`+other+`"}`)
		ts.event(pid, "PractitionerJoinedOrganisation", "2025-03-03", `{"organisation_id":"`+school+`"}`)
		ts.event(pid, "SeniorLeadershipSupportRecorded", "2025-03-03", `{"organisation_id":"`+school+`","endorsed_by":"Head Teacher"}`)
		ts.dutiesOf(pid, "2025-03-01", 2)
		ts.checkStanding(t, pid, []standingCase{
			{cite: `DOMAIN.md: "a standing fact (support, licence, registered service, indemnity) not holding at the year's end"`, on: "2025-03-01", want: "lapsed", unmet: "trainee_lead_professional.previous_year.registered_school_or_service"},
			{cite: `DOMAIN.md: "a lapse on a missed month or a standing fact clears only by a decision"`, on: "2025-04-20", want: "lapsed"},
		})
		r := ts.post("practitioners/"+pid, "CertificationReinstated", "2025-04-21", `{"role":"lead_professional","reason":"back at a registered school",`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		ts.checkStanding(t, pid, []standingCase{
			{cite: `DOMAIN.md: "a lapse on a missed month or a standing fact clears only by a decision"`, on: "2025-04-21", want: "good"},
		})
	})
}

// TestReadingSuspensionEdges: the licence suspended is the school's, or the
// practitioner's own; a revoked licence.
func TestReadingSuspensionEdges(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	pid := ts.traineeAt(school, "Kit Example")
	r := ts.post("organisations/"+school, "LicenceGranted", "2024-02-01", `{"licence_id":"SCH-3A","kind":"level3a","valid_until":"2024-06-30",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	cite := `DOMAIN.md: "a trainee's or Lead Professional's *current licence* duty is met by their own current Level 3 A (or higher practice) licence, or by a current Level 3 A or organisational licence held by a registered organisation they belong to on that date."`
	met := func(on string) any {
		return requirement(ts.view(pid, on), "trainee_lead_professional.current_licence")["met"]
	}
	assert.Equal(t, true, met("2024-06-30"), cite)
	assert.Equal(t, false, met("2024-07-01"), "the school's licence expired: %s", cite)

	r = ts.post("organisations/"+school, "LicenceSuspended", "2024-04-01", `{"licence_id":"SCH-3A","reason":"under review",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	v := ts.view(pid, "2024-04-02")
	assert.Equal(t, "at_risk", standingOf(v), `the school's licence is not practitioner-held; DOMAIN.md: "or any practitioner-held licence makes standing"`)
	assert.Equal(t, false, requirement(v, "trainee_lead_professional.current_licence")["met"])

	p := "practitioners/" + pid
	r = ts.post(p, "LicenceGranted", "2024-03-01", `{"licence_id":"OWN-INF","kind":"informal_use","valid_until":"2025-02-28","exception":true,`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	r = ts.post(p, "LicenceSuspended", "2024-05-01", `{"licence_id":"OWN-INF","reason":"under review",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, "suspended", standingOf(ts.view(pid, "2024-05-01")), `DOMAIN.md: "or any practitioner-held licence makes standing"`)
	r = ts.post(p, "LicenceRevoked", "2024-05-10", `{"licence_id":"OWN-INF","reason":"misuse",`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, "withdrawn", standingOf(ts.view(pid, "2024-05-10")), `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`)
}

// TestReadingReawardEdges: re-awards taken as exceptions are recorded and
// queued; next steps never offer a re-award as ready.
func TestReadingReawardEdges(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	p := "practitioners/" + pid
	exc := `"exception":true,` + dec
	for _, role := range []string{"informed_practitioner", "link_professional", "lead_professional"} {
		require.Equal(t, http.StatusCreated, ts.post(p, "CertificationAwarded", "2024-03-01", `{"role":"`+role+`",`+exc+`}`).status)
	}
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationSuspended", "2024-04-01", `{"role":"lead_professional","reason":"under review",`+dec+`}`).status)
	cite := `DOMAIN.md: "Next steps never offer such a re-award as ready."`
	for _, s := range ts.view(pid, "2024-05-01")["next_steps"].([]any) {
		step := s.(map[string]any)
		if step["decision"] == "CertificationAwarded" {
			assert.NotEqual(t, true, step["ready"], "%s: %v", cite, step)
		}
	}
	r := ts.post(p, "CertificationAwarded", "2024-05-01", `{"role":"lead_professional",`+exc+`}`)
	require.Equal(t, http.StatusCreated, r.status, `DOMAIN.md: "(422 unless an exception)": %s`, r.body)
	id := r.json(t)["event_id"]
	q := ts.do("GET", "/v1/decisions?status=exception", api.RoleReviewer, "")
	require.Equal(t, http.StatusOK, q.status, "%s", q.body)
	assert.True(t, strings.Contains(string(q.body), fmt.Sprint(id)), `DOMAIN.md: "then it is recorded and goes to the QC queue as an exception": %v not in %s`, id, q.body)

	inf := `{"licence_id":"INF-1","kind":"informal_use","valid_until":"2024-12-31",` + exc + `}`
	require.Equal(t, http.StatusCreated, ts.post(p, "LicenceGranted", "2024-03-01", inf).status)
	assert.Equal(t, http.StatusCreated, ts.post(p, "LicenceGranted", "2024-06-01", inf).status, `DOMAIN.md: "(422 unless an exception)"`)
}

// TestReadingGroupsAndRenewalEdges: the groups that count, and a renewal
// dated before, on or after valid_until.
func TestReadingGroupsAndRenewalEdges(t *testing.T) {
	ts := newTestServer(t)

	t.Run("groups", func(t *testing.T) {
		pid := ts.registerPractitioner("Sam Example")
		ts.event(pid, "StudyGroupRun", "2024-02-01", `{"group_id":"G0","course":"foundation_a","registered":true}`)
		ts.event(pid, "TraineeshipStarted", "2024-03-01", `{"role":"lead_professional"}`)
		ts.event(pid, "StudyGroupRun", "2024-05-01", `{"group_id":"G1","course":"foundation_a","registered":false}`)
		ts.event(pid, "StudyGroupRun", "2024-06-01", `{"group_id":"G2","course":"foundation_b","registered":true}`)
		ts.event(pid, "StudyGroupRun", "2024-07-01", `{"group_id":"G3","course":"foundation_a","registered":true}`)
		cite := `DOMAIN.md: "the two groups must be run on or after the traineeship start."`
		r := ts.post("practitioners/"+pid, "CertificationAwarded", "2025-03-02", award)
		assert.Contains(t, unmetIn(t, r), "two_groups_run", cite)
		v := ts.view(pid, "2024-12-01")
		g := requirement(v, "trainee_lead_professional.foundation_a_supported")
		require.NotNil(t, g)
		assert.Equal(t, false, g["met"], cite)
		assert.Len(t, g["evidence"], 1, "only G3 counts: %v", g)
	})

	t.Run("renewal", func(t *testing.T) {
		cite := `DOMAIN.md: "linked CPD anywhere in that year counts, whether the renewal is dated before, on or after that day."`
		for i, c := range []struct {
			cpd, renewed string
			want         int
		}{
			{"2024-03-01", "2025-01-15", http.StatusCreated},
			{"2024-03-01", "2025-02-28", http.StatusCreated},
			{"2024-03-01", "2025-04-01", http.StatusCreated},
			{"2025-02-28", "2025-04-01", http.StatusCreated},
			{"2025-03-15", "2025-04-01", http.StatusUnprocessableEntity},
			{"2024-02-28", "2025-02-28", http.StatusUnprocessableEntity},
		} {
			pid := ts.registerPractitioner("Lee Example")
			p := "practitioners/" + pid
			lid := fmt.Sprintf("CW-%d", i)
			r := ts.post(p, "LicenceGranted", "2024-03-01", `{"licence_id":"`+lid+`","kind":"community_wheel","valid_until":"2025-02-28",`+dec+`}`)
			require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
			ts.event(pid, "CPDEngagementRecorded", c.cpd, `{"kind":"linked_cpd","hours":2}`)
			r = ts.post(p, "LicenceRenewed", c.renewed, `{"licence_id":"`+lid+`","valid_until":"2026-02-28",`+dec+`}`)
			assert.Equal(t, c.want, r.status, "CPD on %s, renewed on %s: %s; %s", c.cpd, c.renewed, cite, r.body)
		}
	})
	t.Run("a renewal clears a licence's lapse on its linked CPD", func(t *testing.T) {
		pid := ts.registerPractitioner("Lee Example")
		p := "practitioners/" + pid
		r := ts.post(p, "LicenceGranted", "2024-03-01", `{"licence_id":"CW-LAPSE","kind":"community_wheel","valid_until":"2025-03-31",`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		ts.checkStanding(t, pid, []standingCase{{cite: `DOMAIN.md: "a count short"`, on: "2025-03-02", want: "lapsed", unmet: "licence.CW-LAPSE.previous_year.linked_cpd"}})
		r = ts.post(p, "LicenceRenewed", "2025-03-05", `{"licence_id":"CW-LAPSE","valid_until":"2026-02-28","exception":true,`+dec+`}`)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		ts.checkStanding(t, pid, []standingCase{{cite: `DOMAIN.md: "a licence continues by renewal."`, on: "2025-03-10", want: "good"}})
	})
}

// TestReadingTraineePeriodEdges: a Level 3 A grant the day before the
// traineeship starts.
func TestReadingTraineePeriodEdges(t *testing.T) {
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)

	t.Run("a Level 3 A licence granted before the traineeship started", func(t *testing.T) {
		pid := ts.registerPractitioner("Sam Example")
		p := "practitioners/" + pid
		ts.joinWithSupport(pid, school, "2024-01-11")
		for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b", "intermediate_a", "study_supporter_preparation"} {
			ts.event(pid, "CourseCompleted", "2024-01-15", `{"course":"`+c+`"}`)
		}
		ts.event(pid, "TraineeshipStarted", "2024-03-02", `{"role":"lead_professional"}`)
		grant := `{"licence_id":"L-3A","kind":"level3a","valid_until":"2025-02-28",` + dec + `}`
		assert.Equal(t, []string{"trainee_or_lead_professional"}, unmetIn(t, ts.post(p, "LicenceGranted", "2024-03-01", grant)),
			`DOMAIN.md: "A practitioner-held Level 3 A licence needs a traineeship started (or Lead Professional certification) by the grant."`)
	})
}

// TestReadingDecisionVersions: a decision taken under v1 keeps v1 for its
// evaluation then; now is v1.1's; the server started after the upgrade
// serves standing under v1.1.
func TestReadingDecisionVersions(t *testing.T) {
	v1, ok := domain.RulebooksWithCurrent("v1")
	require.True(t, ok)
	underV1 := func(c *api.Config) {
		proj, err := projections.New(c.Store, projections.Options{SnapshotPath: filepath.Join(filepath.Dir(c.Tokens.Path()), "projections.snapshot"), Keys: c.Keys, Rulebooks: v1})
		require.NoError(t, err)
		c.Projector = proj
	}
	ts := newTestServer(t, underV1)
	pid := ts.registerPractitioner("Alex Example")
	p := "practitioners/" + pid
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
		ts.event(pid, "CourseCompleted", "2024-02-01", `{"course":"`+c+`"}`)
	}
	ip := `{"role":"informed_practitioner",` + dec + `}`
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationAwarded", "2024-03-01", ip).status)
	require.Equal(t, http.StatusCreated, ts.post(p, "CertificationSuspended", "2024-04-01", `{"role":"informed_practitioner","reason":"under review",`+dec+`}`).status)
	assert.Equal(t, "good", standingOf(ts.view(pid, "2024-04-02")), "v1: a suspended Informed Practitioner is in good standing")
	r := ts.post(p, "CertificationAwarded", "2024-05-01", ip)
	require.Equal(t, http.StatusCreated, r.status, "v1 re-awards: %s", r.body)
	id := r.json(t)["event_id"].(string)

	ts.restart()
	d := ts.do("GET", "/v1/decisions/"+id, api.RoleReviewer, "")
	require.Equal(t, http.StatusOK, d.status, "%s", d.body)
	m := d.json(t)
	cite := `issue 12: "A decision keeps the version it was taken under; its ` + "`evaluation`" + ` (then) is evaluated under that version, its ` + "`reevaluation`" + ` (now) under the current one, and the decision view says which version each used."`
	assert.Equal(t, "v1", m["rulebook_version"], cite)
	assert.Equal(t, "v1", m["evaluation_then_rulebook_version"], cite)
	assert.Equal(t, "v1.1", m["reevaluation_rulebook_version"], cite)
	assert.Equal(t, true, m["evaluation_then"].(map[string]any)["met"], cite)
	assert.Equal(t, false, m["reevaluation"].(map[string]any)["met"], "v1.1 refuses the re-award: %s", cite)
	assert.Equal(t, "suspended", standingOf(ts.view(pid, "2024-04-02")), `issue 12: "Standing and level are always computed with the current rulebook."`)
	assert.Equal(t, http.StatusUnprocessableEntity, ts.post(p, "CertificationAwarded", "2024-06-01", ip).status, `issue 12: "New decisions use v1.1."`)
}

// TestReadingLicenceIDAcrossTheLedger: a licence_id granted to one
// practitioner or organisation is not granted to another within the rules;
// the refusal, and the decision view then and now, name the first grant.
func TestReadingLicenceIDAcrossTheLedger(t *testing.T) {
	const cite = `DOMAIN.md: "` + "`LicenceGranted` with a `licence_id` already granted are outside the rules (422 unless an exception)" + `"`
	ts := newTestServer(t)
	school := ts.registerOrg("Fellside Primary", true)
	a := ts.registerPractitioner("Alex Example")
	b := ts.registerPractitioner("Sam Example")
	inf := func(id, extra string) string {
		return `{"licence_id":"` + id + `","kind":"informal_use","valid_until":"2025-02-28",` + extra + dec + `}`
	}
	for _, pid := range []string{a, b} {
		ts.event(pid, "CourseCompleted", "2024-01-15", `{"course":"foundation_a_part1"}`)
	}
	r := ts.post("practitioners/"+a, "LicenceGranted", "2024-03-01", inf("INF-7", ""))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	first := r.json(t)["event_id"].(string)
	r = ts.post("organisations/"+school, "LicenceGranted", "2024-02-01", `{"licence_id":"SCH-3A","kind":"level3a","valid_until":"2025-01-31","exception":true,`+dec+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)

	before := ts.count()
	r = ts.post("practitioners/"+b, "LicenceGranted", "2024-06-01", inf("INF-7", ""))
	assert.Equal(t, []string{"licence_id_not_granted"}, unmetIn(t, r), cite)
	assert.Contains(t, string(r.body), first, "the refusal names the first grant")
	assert.Equal(t, []string{"licence_id_not_granted"}, unmetIn(t, ts.post("practitioners/"+b, "LicenceGranted", "2024-06-01", inf("SCH-3A", ""))),
		"the school's licence_id too: %s", cite)
	assert.Equal(t, before, ts.count(), "nothing stored")
	assert.Contains(t, unmetIn(t, ts.post("organisations/"+school, "LicenceGranted", "2024-06-01",
		`{"licence_id":"INF-7","kind":"organisational","valid_until":"2025-01-31",`+dec+`}`)), "licence_id_not_granted", "an organisation's grant too: %s", cite)

	r = ts.post("practitioners/"+b, "LicenceGranted", "2024-06-01", inf("INF-7", `"exception":true,`))
	require.Equal(t, http.StatusCreated, r.status, "an exception is recorded: %s", r.body)
	second := r.json(t)["event_id"].(string)
	for _, c := range []struct {
		id, part string
		met      bool
	}{
		{second, "evaluation_then", false},
		{second, "reevaluation", false},
		{first, "evaluation_then", true},
		{first, "reevaluation", true},
	} {
		d := ts.do("GET", "/v1/decisions/"+c.id, api.RoleReviewer, "")
		require.Equal(t, http.StatusOK, d.status, "%s", d.body)
		ev := d.json(t)[c.part].(map[string]any)
		assert.Equal(t, c.met, ev["met"], "%s of %s: %s", c.part, c.id, cite)
	}
}
