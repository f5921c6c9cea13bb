package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// Every request the tests send through a testServer's client, and every
// response they receive, errors included, is checked against the OpenAPI
// document the server serves at /v1/openapi.json, by an independent
// validator (libopenapi-validator): a response that does not conform fails
// the test that received it, so the document cannot drift from the code.
// A test that sends a bad request on purpose says so with offSpec; its
// response must conform all the same.

var (
	specOnce sync.Once
	spec     validator.Validator
	errShape *base.Schema // components.schemas.Error
	specErr  error
)

// specValidator returns the validator for the document served by srvURL,
// built once per test binary: every server serves the same embedded bytes.
func specValidator(t testing.TB, srvURL string) validator.Validator {
	t.Helper()
	specOnce.Do(func() {
		resp, err := http.Get(srvURL + "/v1/openapi.json")
		if err != nil {
			specErr = err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			specErr = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			specErr = err
			return
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			specErr = err
			return
		}
		if p := model.Model.Components.Schemas.GetOrZero("Error"); p != nil {
			errShape = p.Schema()
		}
		if errShape == nil {
			specErr = fmt.Errorf("/v1/openapi.json has no Error schema")
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			specErr = fmt.Errorf("building the validator: %v", errs)
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			specErr = fmt.Errorf("/v1/openapi.json is not a valid OpenAPI document: %s", describe(verrs))
			return
		}
		spec = v
	})
	require.NoError(t, specErr)
	return spec
}

type offSpecKey struct{}

// offSpec marks req as deliberately not conforming to the document (no
// token, a malformed body, an unknown query parameter…): the request is not
// validated, the response still is.
func offSpec(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), offSpecKey{}, true))
}

// conforming is an http.RoundTripper that validates each request (unless
// marked offSpec) and each response against the document, reporting any
// mismatch as an error of t.
type conforming struct {
	t    testing.TB
	v    validator.Validator
	next http.RoundTripper
}

func (c *conforming) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	// The validator reads the body it is given: each reader gets a copy.
	withBody := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	if req.Context().Value(offSpecKey{}) == nil {
		if ok, errs := c.v.ValidateHttpRequestSync(withBody()); !ok {
			c.t.Errorf("request %s %s does not conform to /v1/openapi.json (send it with offSpec if that is the point): %s",
				req.Method, req.URL.RequestURI(), describe(errs))
		}
	}
	resp, err := c.next.RoundTrip(withBody())
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	checkResponse(c.t, c.v, withBody(), resp.StatusCode, resp.Header, rb)
	return resp, nil
}

// checkResponse reports an error of t unless the response to req (status,
// header, body) conforms to the document. A request for a route the
// document does not have (sent offSpec) must get 404 or 405 with an Error
// body.
func checkResponse(t testing.TB, v validator.Validator, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	resp := &http.Response{
		StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}
	ok, errs := v.ValidateHttpResponse(req, resp)
	if !ok && unrouted(errs) {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s is not in /v1/openapi.json, yet the server answered %d", req.Method, req.URL.RequestURI(), status)
		}
		ok, errs = schema_validation.NewSchemaValidator().ValidateSchemaBytes(errShape, body)
	}
	if !ok {
		t.Errorf("response %d to %s %s does not conform to /v1/openapi.json: %s\nbody: %.600s",
			status, req.Method, req.URL.RequestURI(), describe(errs), body)
	}
}

// unrouted reports whether errs say the request's path or method is not in
// the document at all.
func unrouted(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if !e.IsPathMissingError() && !e.IsOperationMissingError() {
			return false
		}
	}
	return len(errs) > 0
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s", s.Reason, s.FieldPath)
		}
	}
	return b.String()
}

// errorsOf is a testing.TB that records what is reported to it.
type errorsOf struct {
	testing.TB
	got []string
}

func (e *errorsOf) Helper() {}
func (e *errorsOf) Errorf(format string, args ...any) {
	e.got = append(e.got, fmt.Sprintf(format, args...))
}

// TestConformanceCatchesDrift shows the check has teeth: a practitioner
// view whose next_steps have the shape the document once gave them
// (requirements), an error body without its code, a status the route does
// not document, and a request with an unknown query parameter value are
// each reported; the real responses are not.
func TestConformanceCatchesDrift(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	v := specValidator(t, ts.srv.URL())
	good := ts.do("GET", "/v1/practitioners/"+pid, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, good.status)
	req, err := http.NewRequest("GET", ts.srv.URL()+"/v1/practitioners/"+pid, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")

	var view map[string]any
	require.NoError(t, json.Unmarshal(good.body, &view))
	view["next_steps"] = []any{map[string]any{"name": "level_1", "met": false, "evidence": []any{}, "missing": "a course"}}
	drifted, err := json.Marshal(view)
	require.NoError(t, err)

	cases := []struct {
		name   string
		status int
		body   []byte
		wrong  bool
	}{
		{"the real view", http.StatusOK, good.body, false},
		{"next_steps as requirements", http.StatusOK, drifted, true},
		{"an error without its code", http.StatusNotFound, []byte(`{"error":{"message":"gone"}}`), true},
		{"a status the route does not document", http.StatusTeapot, []byte(`{"error":{"code":"x","message":"y"}}`), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &errorsOf{TB: t}
			checkResponse(rec, v, req, tc.status, good.header, tc.body)
			if tc.wrong {
				assert.NotEmpty(t, rec.got, "not reported")
			} else {
				assert.Empty(t, rec.got)
			}
		})
	}
	t.Run("a request off the document", func(t *testing.T) {
		rec := &errorsOf{TB: t}
		c := &http.Client{Transport: &conforming{t: rec, v: v, next: http.DefaultTransport}}
		bad, err := http.NewRequest("GET", ts.srv.URL()+"/v1/decisions?status=maybe", nil)
		require.NoError(t, err)
		bad.Header.Set("Authorization", "Bearer "+ts.tokens[api.RoleAuditor])
		resp, err := c.Do(bad)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Len(t, rec.got, 1, "the request is reported, its 400 is not")

		rec.got = nil
		resp, err = c.Do(offSpec(bad))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Empty(t, rec.got, "offSpec: the request is not checked")
	})
}
