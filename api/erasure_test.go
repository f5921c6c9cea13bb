package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore/keystoretest"
)

// Invented adult names, searched for in every response and data file.
const (
	erasedName  = "Morwenna Erasable"
	erasedEmail = "morwenna.erasable@example.org"
	keptName    = "Jory Keepsname"
)

// TestErasure: issue 14, "an erased name is in no byte of any data file, no
// response and no export, while level and decisions stay and every chain
// ... verifies", and bad input ("erasing twice, erasing an unknown id")
// gets a clear error and changes nothing.
func TestErasure(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("POST", "/v1/practitioners", api.RoleAdmin, `{"occurred_on":"2024-01-10","data":{"name":"`+erasedName+`","email":"`+erasedEmail+`","profession":"education"}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json(t)["id"].(string)
	kept := ts.registerPractitioner(keptName)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
		ts.event(id, "CourseCompleted", "2024-02-01", `{"course":"`+c+`"}`)
	}
	decision := ts.event(id, "CertificationAwarded", "2024-03-01", `{"role":"informed_practitioner","decided_by":"Panel chair C. Sample","rationale":"Ahead of the evidence, by agreement.","exception":true}`)
	ts.event(id, "DirectoryListingConsented", "2024-03-02", `{"directory":"informed"}`)
	assert.Empty(t, keystoretest.FilesHolding(t, ts.dir, erasedName), "only ciphertext is stored")
	r = ts.do("GET", "/v1/practitioners/"+id, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, erasedName, r.json(t)["name"], "opened for the views")
	levelBefore := r.json(t)["level"]

	body := `{"reason":"Erasure requested by the practitioner under UK GDPR."}`
	before := ts.count()
	bad := []struct {
		name, path, body string
		role             api.Role
		status           int
		code             string
	}{
		{"no reason", "/v1/practitioners/" + id + "/erasure", `{}`, api.RoleAdmin, 400, "invalid"},
		{"a blank reason", "/v1/practitioners/" + id + "/erasure", `{"reason":"  "}`, api.RoleAdmin, 400, "invalid"},
		{"an email in the reason", "/v1/practitioners/" + id + "/erasure", `{"reason":"Asked by ` + erasedEmail + `"}`, api.RoleAdmin, 400, "invalid"},
		{"an unknown field", "/v1/practitioners/" + id + "/erasure", `{"reason":"Asked.","name":"x"}`, api.RoleAdmin, 400, "invalid"},
		{"an unknown practitioner", "/v1/practitioners/" + uuid.NewString() + "/erasure", body, api.RoleAdmin, 404, "not_found"},
		{"not an id", "/v1/practitioners/nobody/erasure", body, api.RoleAdmin, 404, "not_found"},
		{"a reviewer", "/v1/practitioners/" + id + "/erasure", body, api.RoleReviewer, 403, "forbidden"},
		{"an auditor", "/v1/practitioners/" + id + "/erasure", body, api.RoleAuditor, 403, "forbidden"},
		{"no token", "/v1/practitioners/" + id + "/erasure", body, "", 401, "unauthorized"},
		{"the event route", "/v1/practitioners/" + id + "/events", `{"type":"PersonalDataErased","occurred_on":"2024-04-01","data":{"reason":"Asked."}}`, api.RoleAdmin, 400, "invalid"},
	}
	for _, tc := range bad {
		r := ts.doOffSpec("POST", tc.path, tc.role, tc.body)
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.body)
		assert.Equal(t, tc.code, r.errCode(t), tc.name)
	}
	r = ts.doOffSpec("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, `{}`)
	assert.Contains(t, string(r.body), `"reason`, "the error names the field")
	assert.Equal(t, before, ts.count(), "nothing stored")
	_, erased := ts.keys.Erased("practitioner-" + id)
	assert.False(t, erased, "no key deleted")

	r = ts.do("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	out := r.json(t)
	assert.Equal(t, []any{}, out["plaintext_events"])
	assert.Nil(t, out["warning"])
	assert.Equal(t, before+1, ts.count())

	// Erasing twice: 409, nothing changed.
	r = ts.do("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, body)
	assert.Equal(t, http.StatusConflict, r.status, "%s", r.body)
	assert.Contains(t, string(r.body), "already erased")
	assert.Equal(t, before+1, ts.count())
	// No new personal data for them; other facts still recorded.
	r = ts.do("POST", "/v1/practitioners/"+id+"/events", api.RoleAdmin, `{"type":"PractitionerDetailsChanged","occurred_on":"2024-04-01","data":{"name":"`+erasedName+`"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	r = ts.do("POST", "/v1/practitioners/"+id+"/events?dry_run=true", api.RoleAdmin, `{"type":"PractitionerDetailsChanged","occurred_on":"2024-04-01","data":{"name":"`+erasedName+`"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "a dry run says so too: %s", r.body)
	assert.Equal(t, before+1, ts.count())
	ts.event(id, "CPDEngagementRecorded", "2024-04-02", `{"kind":"linked_cpd","hours":2}`)

	noName := func(when string) {
		t.Helper()
		for _, path := range []string{
			"/v1/practitioners/" + id, "/v1/practitioners/" + id + "/history", "/v1/practitioners",
			"/v1/decisions?status=all", "/v1/decisions/" + decision["event_id"].(string), "/v1/events", "/v1/licences",
		} {
			r := ts.do("GET", path, api.RoleAdmin, "")
			require.Equal(t, http.StatusOK, r.status, "%s %s: %s", when, path, r.body)
			assert.NotContains(t, string(r.body), "Morwenna", "%s: %s", when, path)
			assert.NotContains(t, string(r.body), erasedEmail, "%s: %s", when, path)
		}
		r := ts.do("GET", "/v1/directory", "", "")
		assert.NotContains(t, string(r.body), "Morwenna", when)
		assert.NotContains(t, string(r.body), domain.ErasedName, when)
		r = ts.do("GET", "/v1/practitioners/"+id, api.RoleAuditor, "")
		assert.Equal(t, domain.ErasedName, r.json(t)["name"], when)
		assert.Equal(t, levelBefore, r.json(t)["level"], "%s: the level stays", when)
		assert.Contains(t, r.json(t)["roles"], "informed_practitioner", "%s: the decision stays", when)
		r = ts.do("GET", "/v1/practitioners/"+kept, api.RoleAuditor, "")
		assert.Equal(t, keptName, r.json(t)["name"], when)
		r = ts.do("GET", "/v1/decisions/"+decision["event_id"].(string), api.RoleAuditor, "")
		assert.Equal(t, http.StatusOK, r.status, "%s: the decision stays", when)
		r = ts.do("GET", "/v1/verify", api.RoleAuditor, "")
		assert.Equal(t, true, r.json(t)["ok"], "%s: every chain verifies", when)
		for _, s := range []string{erasedName, "Morwenna", erasedEmail} {
			assert.Empty(t, keystoretest.FilesHolding(t, ts.dir, s), "%s: %q in a data file", when, s)
		}
	}
	noName("after erasure")
	r = ts.do("POST", "/v1/admin/rebuild", api.RoleAdmin, "")
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	waitRebuilt(t, ts)
	noName("after an online rebuild")
	ts.restart()
	noName("after a restart")
	require.NoError(t, os.Remove(filepath.Join(ts.dir, "projections.snapshot")))
	ts.restart()
	noName("after a restart without a snapshot")
}

// waitRebuilt waits for the online rebuild to finish.
func waitRebuilt(t *testing.T, ts *testServer) {
	t.Helper()
	var last map[string]any
	require.Eventually(t, func() bool {
		last = ts.do("GET", "/v1/admin/rebuild", api.RoleAdmin, "").json(t)
		return last["state"] != "running"
	}, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, "done", last["state"], "%v", last)
}

// TestErasureOfPlaintextHistory: a practitioner registered before the
// ledger sealed personal data (plaintext in the store) reads as erased
// everywhere the ledger shows them, and the response says which events
// still hold the name in the store's bytes.
func TestErasureOfPlaintextHistory(t *testing.T) {
	ts := newTestServer(t)
	id := uuid.New()
	stream := "practitioner-" + id.String()
	data, _ := json.Marshal(domain.PractitionerRegistered{Name: erasedName, Email: erasedEmail, Profession: domain.ProfessionHealth})
	evID := uuid.New()
	_, err := ts.store.Append(context.Background(), stream, eventstore.NoStream(), eventstore.EventData{
		ID: evID, Type: domain.TypePractitionerRegistered, SchemaVersion: 1, OccurredOn: "2023-05-01", RecordedBy: "admin-1", Data: data,
	})
	require.NoError(t, err)
	r := ts.do("GET", "/v1/practitioners/"+id.String()+"/history", api.RoleAuditor, "")
	assert.Contains(t, string(r.body), `"personal_data":"plaintext"`)

	r = ts.do("POST", "/v1/practitioners/"+id.String()+"/erasure", api.RoleAdmin, `{"reason":"Erasure requested by the practitioner."}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	out := r.json(t)
	assert.Equal(t, []any{evID.String()}, out["plaintext_events"])
	assert.Contains(t, out["warning"], "plaintext")
	assert.Contains(t, ts.logs.String(), "still hold it in plaintext")
	for _, path := range []string{"/v1/practitioners/" + id.String(), "/v1/practitioners/" + id.String() + "/history", "/v1/practitioners"} {
		r := ts.do("GET", path, api.RoleAdmin, "")
		assert.NotContains(t, string(r.body), "Morwenna", path)
		assert.NotContains(t, string(r.body), erasedEmail, path)
	}
	r = ts.do("GET", "/v1/practitioners/"+id.String()+"/history", api.RoleAuditor, "")
	assert.Contains(t, string(r.body), `"data_redacted":true`)
	// The limit the README states: the old event's bytes keep it.
	assert.Equal(t, []string{"events.db"}, keystoretest.FilesHolding(t, ts.dir, erasedName))
}

// TestErasureCompletesAnInterruptedOne: an erasure cut short after the key
// was deleted and before its event was appended (a crash, a store failure)
// already reads as erased, and erasing again records the event.
func TestErasureCompletesAnInterruptedOne(t *testing.T) {
	ts := newTestServer(t)
	id := ts.registerPractitioner(erasedName)
	require.NoError(t, ts.keys.Erase("practitioner-"+id, time.Now()))
	r := ts.do("GET", "/v1/practitioners/"+id, api.RoleAuditor, "")
	assert.Equal(t, domain.ErasedName, r.json(t)["name"])
	before := ts.count()
	r = ts.do("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, `{"reason":"Erasure requested by the practitioner."}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, before+1, ts.count())
	r = ts.do("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, `{"reason":"Erasure requested by the practitioner."}`)
	assert.Equal(t, http.StatusConflict, r.status, "%s", r.body)
}

// TestConcurrentErasures: erasing one practitioner twice at once records
// one erasure; the other request gets a conflict.
func TestConcurrentErasures(t *testing.T) {
	ts := newTestServer(t)
	id := ts.registerPractitioner(erasedName)
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = ts.do("POST", "/v1/practitioners/"+id+"/erasure", api.RoleAdmin, `{"reason":"Erasure requested by the practitioner."}`).status
		})
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else {
			assert.Equal(t, http.StatusConflict, s)
		}
	}
	assert.Equal(t, 1, created, "%v", statuses)
	erasures := 0
	for e, err := range ts.store.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		if e.Type == domain.TypePersonalDataErased {
			erasures++
		}
	}
	assert.Equal(t, 1, erasures)
}
