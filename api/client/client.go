// Package client is a typed Go client of the ledger's HTTP API: what the
// `ledger` command uses for everything it does through a running server
// (verify, replay, export, an online rebuild), and what an integrator
// imports to do the same. Each method is one route of api/openapi.json;
// its answer comes back as the type the server encodes it from
// (projections.PractitionerView, eventstore.VerifyReport, export.Event, …)
// and a refusal as an *Error with the API's code and message.
//
// It owns the wire side of the API only. It imports domain, eventstore,
// eventstore/export and projections for their types, and must never import
// api (the server, with its metrics and router, would come into every
// integrator's binary) nor a store backend.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/projections"
)

// EventsPage is how many events Events asks for in one request of
// GET /v1/events (the server allows up to 10,000).
const EventsPage = 5000

// Client calls one ledger server with one bearer token. Safe for
// concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client of the server at baseURL (e.g.
// "http://127.0.0.1:8080") that authenticates with token, or with none
// when token is "" (the public routes only: health, the directory). hc
// sends the requests, http.DefaultClient when nil; give it a Timeout.
func New(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, http: hc}
}

// URL returns the server's base URL, as given to New.
func (c *Client) URL() string { return c.base }

// Error is the API's answer to a request it did not serve: the HTTP status
// and, when the body is the API's {"error":{"code","message"}}, its code
// (one of domain's E* codes, or "unavailable", "too_large", …), message
// and field.
type Error struct {
	StatusCode int
	Code       string
	Message    string
	Field      string
}

// Error returns the API's message, which is fit to show a user, or the
// status when the answer had none.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("the server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Health is the body of GET /healthz.
type Health struct {
	// Status is "ok", "degraded" (answering, but something a client may
	// meet is wrong) or "unavailable" (not to be sent queries now).
	Status string `json:"status"`
	// Checkpoint is the position the read models have reached, Lag how
	// far they trail the newest stored event.
	Checkpoint eventstore.Position `json:"checkpoint"`
	Lag        uint64              `json:"lag"`
	Time       string              `json:"time"`
	// Problems names what is wrong, one per component.
	Problems []HealthProblem `json:"problems,omitempty"`
}

// HealthProblem is one thing /healthz reports wrong.
type HealthProblem struct {
	// Component is "store" or "read_models"; State a word a monitor can
	// match (disk_full, damaged, building, stopped, recovering, behind).
	Component string `json:"component"`
	State     string `json:"state"`
	Message   string `json:"message"`
	Since     string `json:"since,omitempty"`
}

// Health asks whether the server can serve, without a token. A server that
// answers 503 with its health (read models not ready, store damaged) gives
// a Health whose Status is "unavailable" and no error.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	status, body, err := c.do(ctx, http.MethodGet, "/healthz", nil, false)
	if err != nil {
		return h, err
	}
	if status != http.StatusOK && status != http.StatusServiceUnavailable {
		return h, apiError(status, body)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("the server at %s: /healthz: %w", c.base, err)
	}
	return h, nil
}

// Verify asks the server to recompute every hash chain of its store
// (GET /v1/verify, admin or auditor).
func (c *Client) Verify(ctx context.Context) (eventstore.VerifyReport, error) {
	var rep eventstore.VerifyReport
	err := c.get(ctx, "/v1/verify", nil, &rep)
	return rep, err
}

// Practitioner returns a practitioner's view as of a date (today when
// zero) and as known at a time (now when zero): GET /v1/practitioners/{id}.
func (c *Client) Practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (projections.PractitionerView, error) {
	q := url.Values{}
	if !asOf.IsZero() {
		q.Set("as_of", asOf.String())
	}
	setKnownAt(q, knownAt)
	var v projections.PractitionerView
	err := c.get(ctx, "/v1/practitioners/"+id.String(), q, &v)
	return v, err
}

// History returns the audit trail of a practitioner's or an
// organisation's stream (practitioner-<uuid>, organisation-<uuid>) as
// known at a time (now when zero): GET /v1/{kind}s/{id}/history.
func (c *Client) History(ctx context.Context, stream string, knownAt time.Time) ([]projections.HistoryItem, error) {
	kind, id, ok := domain.ParseStream(stream)
	if !ok {
		return nil, fmt.Errorf("client: %q is not a practitioner or organisation stream", stream)
	}
	q := url.Values{}
	setKnownAt(q, knownAt)
	var page struct {
		Items []projections.HistoryItem `json:"items"`
	}
	path := "/v1/" + strings.TrimSuffix(domain.StreamPrefix(kind), "-") + "s/" + id.String() + "/history"
	err := c.get(ctx, path, q, &page)
	return page.Items, err
}

func setKnownAt(q url.Values, knownAt time.Time) {
	if !knownAt.IsZero() {
		q.Set("known_at", knownAt.UTC().Format(time.RFC3339Nano))
	}
}

// Events yields every stored event after position from, in global order,
// with every envelope field (GET /v1/events, admin or auditor, a page of
// EventsPage at a time). Iteration stops at the first error, which is
// yielded with a zero event.
func (c *Client) Events(ctx context.Context, from eventstore.Position) iter.Seq2[export.Event, error] {
	return func(yield func(export.Event, error) bool) {
		q := url.Values{"limit": {strconv.Itoa(EventsPage)}}
		if from != eventstore.Start {
			q.Set("cursor", strconv.FormatUint(uint64(from), 10))
		}
		for {
			var page struct {
				Items      []export.Event `json:"items"`
				NextCursor string         `json:"next_cursor"`
			}
			if err := c.get(ctx, "/v1/events", q, &page); err != nil {
				yield(export.Event{}, err)
				return
			}
			for _, e := range page.Items {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			q.Set("cursor", page.NextCursor)
		}
	}
}

// ReadAll is Events as stored events, hashes included, so that a client
// is an eventstore.AllReader: eventstore.Verify, eventstore.Copy and a
// checkpoint's check run on a server's history as on a store's.
func (c *Client) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for x, err := range c.Events(ctx, from) {
			if err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			e, err := x.Recorded()
			if err != nil {
				yield(eventstore.RecordedEvent{}, fmt.Errorf("event %s from the server: %w", x.EventID, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// RebuildStatus is the state of a server's latest online rebuild of its
// read models: the body of GET and POST /v1/admin/rebuild.
type RebuildStatus struct {
	// State is idle (none since start), running, done or failed.
	State string `json:"state"`
	// Phase, while running, is reading (events read from the store so far,
	// total not yet known) or folding (events folded of EventsTotal).
	Phase       string     `json:"phase,omitempty"`
	EventsDone  uint64     `json:"events_done"`
	EventsTotal uint64     `json:"events_total"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	// Error says that a failed rebuild failed; its detail is in the
	// server's log, as for every internal error.
	Error string `json:"error,omitempty"`
}

// StartRebuild asks the server to rebuild its read models beside the
// served ones and swap them in whole (POST /v1/admin/rebuild, admin). While
// one is running it returns an *Error with Code domain.ECONFLICT.
func (c *Client) StartRebuild(ctx context.Context) (RebuildStatus, error) {
	var st RebuildStatus
	err := c.call(ctx, http.MethodPost, "/v1/admin/rebuild", http.StatusAccepted, &st)
	return st, err
}

// Rebuild returns the state of the latest online rebuild (GET
// /v1/admin/rebuild, admin).
func (c *Client) Rebuild(ctx context.Context) (RebuildStatus, error) {
	var st RebuildStatus
	err := c.get(ctx, "/v1/admin/rebuild", nil, &st)
	return st, err
}

// get fetches path with query q into dst.
func (c *Client) get(ctx context.Context, path string, q url.Values, dst any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.call(ctx, http.MethodGet, path, http.StatusOK, dst)
}

// call sends a bodiless request and decodes an answer of status want into
// dst (numbers in `any` fields as json.Number, as the server wrote them);
// any other answer is an *Error.
func (c *Client) call(ctx context.Context, method, path string, want int, dst any) error {
	status, body, err := c.do(ctx, method, path, nil, true)
	if err != nil {
		return err
	}
	if status != want {
		return apiError(status, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("the server at %s: %s %s: %w", c.base, method, path, err)
	}
	return nil
}

// do sends one request and reads the whole answer. A 429 (the token's or
// the address's rate limit; the server charges large answers more than
// one request) is waited out for its Retry-After and sent again, until ctx
// is done: nothing was done for a request answered 429.
func (c *Client) do(ctx context.Context, method, path string, reqBody []byte, auth bool) (int, []byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(reqBody))
		if err != nil {
			return 0, nil, err
		}
		if auth && c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("the server at %s: %w", c.base, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("the server at %s: %w", c.base, err)
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			return resp.StatusCode, body, nil
		}
		wait := time.Second
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			wait = time.Duration(n) * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// apiError reads the API's error body, if the answer has one.
func apiError(status int, body []byte) error {
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	out := &Error{StatusCode: status}
	if json.Unmarshal(body, &e) == nil {
		out.Code, out.Message, out.Field = e.Error.Code, e.Error.Message, e.Error.Field
	}
	return out
}
