package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// BenchmarkPages measures each page's server time (the handler, from the
// request to the last byte written, no network) for one practitioner with
// 1,000 events. The goal is under 20 ms a page.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, console.Options{})
	org := e.organisation("Hillside Bench School")
	pid := e.practitioner("Casey Fictional", "2022-01-10")
	rec := e.srv.Recorder()
	admin := api.Principal{Name: "admin-1", Role: api.RoleAdmin}
	stream := "practitioner-" + pid
	add := func(typ, on string, data any) string {
		b.Helper()
		raw, err := json.Marshal(data)
		require.NoError(b, err)
		r, err := rec.Record(context.Background(), admin, stream, api.Proposal{Type: typ, OccurredOn: on, Data: raw})
		require.NoError(b, err)
		return r.EventID.String()
	}
	add(domain.TypePractitionerJoinedOrganisation, "2022-01-10", map[string]any{"organisation_id": org})
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b", "intermediate_a", "intermediate_b"} {
		add(domain.TypeCourseCompleted, "2022-02-01", map[string]any{"course": c})
	}
	decision := add(domain.TypeLicenceGranted, "2022-03-01", map[string]any{"licence_id": "L-B", "kind": "level3a", "valid_until": "2027-03-01",
		"decided_by": "Bench Panel", "rationale": "For the benchmark.", "exception": true})
	start, _ := domain.ParseDate("2022-03-02")
	for i := range 1000 - 8 { // 1,000 events in all
		on := start.AddDays(i * 1400 / 1000).String()
		switch i % 3 {
		case 0:
			add(domain.TypeCPDEngagementRecorded, on, map[string]any{"kind": "practitioner_development", "hours": 1.5, "title": "Session"})
		case 1:
			add(domain.TypeReflectiveUpdateSubmitted, on, map[string]any{"kind": "log_book", "summary": "An update."})
		case 2:
			add(domain.TypeStudyGroupRun, on, map[string]any{"group_id": fmt.Sprintf("G-%d", i), "course": "foundation_a", "participants": 8})
		}
	}
	br := e.browser().signin(api.RoleAuditor)
	u, _ := url.Parse(e.srv.URL() + "/ui/")
	cookies := br.c.Jar.Cookies(u)
	require.NotEmpty(b, cookies)
	h := e.srv.Handler()
	known := time.Now().UTC().Format(time.RFC3339Nano)
	pages := []struct{ name, path string }{
		{"practitioner", "/ui/practitioners/" + pid},
		{"practitioner_as_of", "/ui/practitioners/" + pid + "?as_of=2023-06-01"},
		{"practitioner_known_at", "/ui/practitioners/" + pid + "?known_at=" + url.QueryEscape(known)},
		{"timeline_page_20", "/ui/practitioners/" + pid + "?page=20"},
		{"history_json", "/ui/practitioners/" + pid + "/history.json"},
		{"history_csv", "/ui/practitioners/" + pid + "/history.csv"},
		{"practitioners", "/ui/practitioners?q=casey"},
		{"decisions", "/ui/decisions?status=all"},
		{"decision", "/ui/decisions/" + decision},
		{"organisation", "/ui/organisations/" + org},
		{"directory", "/ui/directory"},
		{"verify", "/ui/verify"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", p.path, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			// Wall time per page is ns/op; on a busy machine it includes
			// waiting for a core, so the process's CPU time per page is
			// reported beside it.
			cpu0 := storetest.CPUTime()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, w.Code, w.Body.String()[:min(300, w.Body.Len())])
				}
			}
			b.ReportMetric(float64(storetest.CPUTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
