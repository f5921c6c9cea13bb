package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// FuzzAppendHandler throws arbitrary bodies and Idempotency-Keys at the
// append route: never a panic, never a 5xx, and a refused request stores
// nothing.
func FuzzAppendHandler(f *testing.F) {
	seeds := []string{
		`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`,
		`{"type":"LicenceGranted","occurred_on":"2024-03-01","data":{"licence_id":"L","kind":"level3a","valid_until":"2025-03-01","decided_by":"P","rationale":"r","exception":true}}`,
		`{"type":"EventRetracted","occurred_on":"2024-03-01","data":{"retracted_event_id":"00000000-0000-0000-0000-000000000001","reason":"x"}}`,
		`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"},"expected_revision":0}`,
		`{"type":"","data":null}`, `{`, `[]`, `null`, ``, `{"type":"CourseCompleted","occurred_on":"2024-3-1","data":{"course":1}}`,
	}
	for _, s := range seeds {
		f.Add(s, "")
	}
	f.Add(seeds[0], "key-1")
	ts := newTestServer(f)
	pid := ts.registerPractitioner("Alex Example")
	h := ts.srv.Handler()
	spec := specValidator(f, ts.srv.URL())
	path := "/v1/practitioners/" + pid + "/events"
	f.Fuzz(func(t *testing.T, body, key string) {
		before := ts.countWith(t)
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ts.tokens[api.RoleAdmin])
		if key != "" && !strings.ContainsAny(key, "\r\n\x00") {
			req.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Less(t, w.Code, 500, "body %q: %s", body, w.Body)
		// The body is anything at all, so only the response must conform.
		checkResponse(t, spec, req, w.Code, w.Header(), w.Body.Bytes())
		after := ts.countWith(t)
		if w.Code != http.StatusCreated {
			assert.Equal(t, before, after, "refused with %d but stored: %s", w.Code, w.Body)
		} else {
			assert.LessOrEqual(t, after-before, 1)
		}
	})
}
