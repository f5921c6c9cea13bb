package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// demoEvents is how many events the demo data set holds: one a row of
// demo.csv after its header.
func demoEvents() int {
	return bytes.Count(bytes.TrimSpace(demoCSV), []byte("\n"))
}

// demoDate is the date a demo loaded today gives to a day demo.csv is
// written for (see demoWrittenFor).
func demoDate(t *testing.T, written string) string {
	t.Helper()
	d, err := demoDay(written, domain.DateOf(time.Now().UTC()))
	require.NoError(t, err)
	return d.String()
}

// TestDemoShowsEveryFeature starts `serve --demo` on an empty directory,
// on today and on days years apart (the demo's dates follow the day it is
// first started), and checks through the HTTP API that the demo shows a
// newcomer every feature the README promises: a trainee and a licensed
// Lead Professional in good standing, a Lead Plus Professional, a lapse, a
// suspension, an exception waiting in the QC queue, a school-held licence
// and directory listings. Each decision in it was taken through the write
// path under the current rulebook: an import refuses a row the rules
// refuse, and the demo would not load.
func TestDemoShowsEveryFeature(t *testing.T) {
	days := map[string]func() time.Time{
		"today":                           time.Now,
		"the day demo.csv is written for": func() time.Time { return demoWrittenFor.Time().Add(9 * time.Hour) },
		"a leap day":                      func() time.Time { return time.Date(2028, 2, 29, 23, 30, 0, 0, time.UTC) },
		"years on, at new year":           func() time.Time { return time.Date(2033, 1, 1, 0, 5, 0, 0, time.UTC) },
	}
	for name, now := range days {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			m := &Main{Data: t.TempDir(), Addr: "127.0.0.1:0", Demo: true, Stdout: &out, Stderr: &errb, Now: now}
			require.NoError(t, m.Open(context.Background()), errb.String())
			defer m.Close()
			require.Contains(t, errb.String(), "Loaded the fictional demo data set")
			checkDemo(t, m.URL(), m.AdminToken)
		})
	}
}

// demoView is the part of a practitioner's view the demo's checks read.
type demoView struct {
	Name         string   `json:"name"`
	Level        int      `json:"level"`
	Roles        []string `json:"roles"`
	Traineeships []string `json:"traineeships"`
	Licences     []struct {
		ID     string `json:"licence_id"`
		Kind   string `json:"kind"`
		Status string `json:"status"`
	} `json:"licences"`
	Standing struct {
		Status       string `json:"status"`
		Requirements []struct {
			Name string `json:"name"`
			Met  bool   `json:"met"`
		} `json:"requirements"`
	} `json:"standing"`
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	status, body := get(t, url, token)
	require.Equal(t, http.StatusOK, status, "%s: %s", url, body)
	require.NoError(t, json.Unmarshal([]byte(body), v), body)
}

func checkDemo(t *testing.T, base, token string) {
	require.Eventually(t, func() bool {
		status, _ := get(t, base+"/healthz", "")
		return status == http.StatusOK
	}, 20*time.Second, 5*time.Millisecond, "/healthz never said ready")

	cases := []struct {
		feature      string
		id           string
		name         string
		level        int
		roles        []string // held, among others
		notRoles     []string
		traineeships []string
		standing     string
		unmet        string // a standing requirement unmet, when it shows the feature
		licence      string // a licence of their own, active
	}{
		// DOMAIN.md: "Entry generally after Intermediate A or B; **fast track** after Foundation A and B when an organisation benefits"
		{feature: "a fast-tracked trainee Lead Professional in good standing, on the school's licence", id: demoTrainee, name: "Sam Sample", level: 1,
			notRoles: []string{"lead_professional"}, traineeships: []string{"lead_professional"}, standing: "good"},
		// DOMAIN.md: "a trainee's or Lead Professional's *current licence* duty is met by their own current Level 3 A (or higher practice) licence"
		{feature: "a certified, licensed Lead Professional in good standing", id: demoLicensed, name: "Morgan Demo", level: 3,
			roles: []string{"lead_professional"}, standing: "good", licence: "L-DEMO-MORGAN"},
		// DOMAIN.md: "Entry: Level 1 and 2; Level 3 and the Deep Dive (Extended Learning); Link and Lead Professional certification"
		{feature: "a certified Lead Plus Professional in good standing", id: demoPractitioner, name: "Alex Example", level: 3,
			roles: []string{"informed_practitioner", "link_professional", "lead_professional", "lead_plus"}, standing: "good"},
		// DOMAIN.md: "A certification year that ended with a requirement unmet makes standing `lapsed`"
		{feature: "a trainee whose year ended a Foundation A group short: lapsed", id: demoLapsed, name: "Taylor Invented", level: 1,
			traineeships: []string{"lead_professional"}, standing: "lapsed", unmet: "trainee_lead_professional.previous_year.foundation_a_supported"},
		// DOMAIN.md: "Suspending or withdrawing any certified role (informed practitioner, link, senior link, …) or any practitioner-held licence makes standing `suspended` / `withdrawn`"
		{feature: "a suspended Informed Practitioner", id: demoSuspended, name: "Drew Imaginary", level: 1,
			notRoles: []string{"informed_practitioner"}, standing: "suspended", unmet: "informed_practitioner.not_suspended_or_withdrawn"},
	}
	for _, tc := range cases {
		var v demoView
		getJSON(t, base+"/v1/practitioners/"+tc.id, token, &v)
		assert.Equal(t, tc.name, v.Name, tc.feature)
		assert.Equal(t, tc.level, v.Level, "%s: level", tc.feature)
		assert.Subset(t, v.Roles, tc.roles, "%s: roles", tc.feature)
		for _, r := range tc.notRoles {
			assert.NotContains(t, v.Roles, r, "%s: roles", tc.feature)
		}
		assert.Subset(t, v.Traineeships, tc.traineeships, "%s: traineeships", tc.feature)
		assert.Equal(t, tc.standing, v.Standing.Status, "%s: standing %+v", tc.feature, v.Standing.Requirements)
		if tc.unmet != "" {
			unmet := []string{}
			for _, r := range v.Standing.Requirements {
				if !r.Met {
					unmet = append(unmet, r.Name)
				}
			}
			assert.Contains(t, unmet, tc.unmet, "%s: unmet requirements", tc.feature)
		}
		if tc.licence != "" {
			found := false
			for _, l := range v.Licences {
				found = found || (l.ID == tc.licence && l.Kind == "level3a" && l.Status == "active")
			}
			assert.True(t, found, "%s: an active Level 3 A licence %s among %+v", tc.feature, tc.licence, v.Licences)
		}
	}

	// The school-held licence.
	var licences struct {
		Items []struct {
			ID, Kind, Status, HolderType, HolderID string
		} `json:"items"`
	}
	status, body := get(t, base+"/v1/licences", token)
	require.Equal(t, http.StatusOK, status, body)
	require.NoError(t, json.Unmarshal([]byte(strings.NewReplacer(`"licence_id"`, `"ID"`, `"holder_type"`, `"HolderType"`, `"holder_id"`, `"HolderID"`).Replace(body)), &licences))
	school := false
	for _, l := range licences.Items {
		school = school || (l.HolderType == "organisation" && l.HolderID == demoSchool && l.Kind == "level3a" && l.Status == "active")
	}
	assert.True(t, school, "an active school-held Level 3 A licence: %s", body)

	// The exception waiting in the QC queue.
	var queue struct {
		Items []struct {
			Stream    string `json:"stream"`
			Type      string `json:"type"`
			Exception bool   `json:"exception"`
		} `json:"items"`
	}
	getJSON(t, base+"/v1/decisions?status=unreviewed", token, &queue)
	waiting := false
	for _, d := range queue.Items {
		waiting = waiting || (d.Exception && d.Stream == "practitioner-"+demoException && d.Type == "LicenceGranted")
	}
	assert.True(t, waiting, "an unreviewed exception in the queue: %+v", queue.Items)

	// The directories: consent and good standing list a practitioner; a
	// lapsed one drops off.
	var dir struct {
		Items []struct {
			Name      string `json:"name"`
			Directory string `json:"directory"`
		} `json:"items"`
	}
	getJSON(t, base+"/v1/directory", "", &dir)
	listed := map[string]bool{}
	for _, l := range dir.Items {
		listed[l.Name+" in "+l.Directory] = true
	}
	for _, want := range []string{"Sam Sample in informed", "Morgan Demo in informed", "Alex Example in informed", "Alex Example in locality_hub"} {
		assert.True(t, listed[want], "%s: %+v", want, dir.Items)
	}
	assert.False(t, listed["Taylor Invented in informed"], "a lapsed practitioner drops off the directory")
	status, body = get(t, base+"/ui/directory", "")
	assert.Equal(t, http.StatusOK, status)
	for _, name := range []string{"Sam Sample", "Morgan Demo", "Alex Example"} {
		assert.Contains(t, body, name, "/ui/directory")
	}
}
