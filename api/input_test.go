package api_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// TestBodyTextMustBeUTF8 sends bodies whose text encoding/json would
// decode with U+FFFD in place of what was sent (issue 16 item 10): each is
// refused with 400 naming the field, and nothing is stored.
func TestBodyTextMustBeUTF8(t *testing.T) {
	ts := newTestServer(t)
	p := ts.registerPractitioner("Morgan Fictional")
	before := ts.count()
	path := "/v1/practitioners/" + p + "/events"
	tests := []struct {
		name, body, field string
	}{
		{"a byte that is not UTF-8 in a value", "{\"type\":\"CPDEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{\"kind\":\"linked_cpd\",\"title\":\"peer \xff group\"}}", "data.title"},
		{"a truncated sequence in a value", "{\"type\":\"CPDEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{\"kind\":\"linked_cpd\",\"title\":\"caf\xc3\"}}", "data.title"},
		{"an encoded surrogate", "{\"type\":\"CPDEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{\"kind\":\"linked_cpd\",\"title\":\"x\xed\xa0\x80\"}}", "data.title"},
		{"a lone high surrogate escape", `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","title":"x\ud800y"}}`, "data.title"},
		{"a lone low surrogate escape", `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","title":"\udc00"}}`, "data.title"},
		{"in a key", "{\"type\":\"CPDEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{\"kind\":\"linked_cpd\",\"ti\xfftle\":\"x\"}}", "data.ti\ufffdtle"},
		{"in an array", "{\"type\":\"CPDEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{\"kind\":\"linked_cpd\",\"tags\":[\"a\",\"\xff\"]}}", "data.tags[1]"},
		{"in a top-level field", "{\"type\":\"CPD\xffEngagementRecorded\",\"occurred_on\":\"2024-03-01\",\"data\":{}}", "type"},
		{"in a body that is not JSON either", "{\"type\":\"\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.doOffSpec("POST", path, api.RoleAdmin, tt.body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			e := r.json(t)["error"].(map[string]any)
			assert.Equal(t, "invalid", e["code"])
			msg := e["message"].(string)
			if tt.field != "" {
				assert.Regexp(t, `^`+regexp.QuoteMeta(tt.field)+`: `, msg)
			} else {
				assert.Regexp(t, `^the body `, msg)
			}
			assert.Contains(t, msg, "at byte")
			assert.Equal(t, before, ts.count(), "nothing stored")
		})
	}
	t.Run("a valid surrogate pair and plain U+FFFD are text", func(t *testing.T) {
		r := ts.do("POST", path, api.RoleAdmin, `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","title":"Peer group \ud83d\ude00 \ufffd caf\u00e9 \\ud800"}}`)
		assert.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	})
}

// TestKnownAtTheZeroTime asks what the ledger knew at 0001-01-01T00:00:00Z:
// nothing, as at any time before the practitioner was registered (issue 16
// item 10: the zero time was read as "now").
func TestKnownAtTheZeroTime(t *testing.T) {
	ts := newTestServer(t)
	p := ts.registerPractitioner("Morgan Fictional")
	for _, at := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000000Z", "1990-01-01T00:00:00Z"} {
		t.Run(at, func(t *testing.T) {
			r := ts.do("GET", "/v1/practitioners/"+p+"?known_at="+at, api.RoleAuditor, "")
			assert.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
			r = ts.do("GET", "/v1/practitioners/"+p+"/history?known_at="+at, api.RoleAuditor, "")
			assert.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
		})
	}
	r := ts.do("GET", "/v1/practitioners/"+p+"/history", api.RoleAuditor, "")
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
}
