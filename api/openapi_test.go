package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIDescribesEveryRoute walks the router: every route served is
// described in /v1/openapi.json, and every route described is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("GET", "/v1/openapi.json", "", "")
	require.Equal(t, http.StatusOK, r.status)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.body, &doc))
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"), "OpenAPI %s", doc.OpenAPI)

	var described []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	routes, ok := ts.srv.Handler().(chi.Routes)
	require.True(t, ok, "the handler is a chi router")
	require.NoError(t, chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	}))
	slices.Sort(described)
	slices.Sort(served)
	require.NotEmpty(t, served)
	for _, s := range served {
		assert.Contains(t, described, s, "served but not described")
	}
	for _, d := range described {
		assert.Contains(t, served, d, "described but not served")
	}
	for _, c := range contract {
		assert.Contains(t, served, c.method+" "+c.path, "a route of the contract is not served")
	}
}
