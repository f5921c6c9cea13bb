package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
)

// TestKnownAtTheZeroTime: the page of a practitioner as known at
// 0001-01-01T00:00:00Z is not found, as at any time before the
// registration (issue 16 item 10: the zero time was read as "now").
func TestKnownAtTheZeroTime(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	b := e.signedIn(api.RoleAdmin)
	for _, at := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00", "2020-01-01T00:00:00Z"} {
		p := b.get("/ui/practitioners/" + pid + "?known_at=" + url.QueryEscape(at))
		assert.Equal(t, http.StatusNotFound, p.status, at)
	}
	assert.Equal(t, http.StatusOK, b.get("/ui/practitioners/"+pid).status)
}
