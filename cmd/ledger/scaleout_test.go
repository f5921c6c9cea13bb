package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// serveKurrentDB boots a real server on a loopback port against the
// KurrentDB at url, with its own data directory (tokens, snapshot) and so
// its own admin token, and the key store file keys (shared by the servers
// of one KurrentDB, so that each opens the names the others sealed); it is
// closed when the test ends.
func serveKurrentDB(t *testing.T, url, keys string) *Main {
	t.Helper()
	var out, errb syncWriter
	m := &Main{Data: t.TempDir(), Addr: "127.0.0.1:0", Store: "kurrentdb", KurrentDB: url, Keys: keys, Stdout: &out, Stderr: &errb}
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	require.NotEmpty(t, m.AdminToken)
	return m
}

// call sends a request and returns the status and body; unlike get it
// does not fail the test, so that it may run off the test's goroutine.
func call(method, url, token, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestScaleOutTwoServersOneKurrentDB runs two ledger servers on one
// KurrentDB (the protocol double), as issue 6 asks: a write through one is
// visible through the other once its subscription has caught up, and
// conflicting writes through both with the same expected revision have
// exactly one winner, round after round, leaving one unforked stream.
func TestScaleOutTwoServersOneKurrentDB(t *testing.T) {
	url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()
	keys := filepath.Join(t.TempDir(), "personal-keys.jsonl")
	a := serveKurrentDB(t, url, keys)
	b := serveKurrentDB(t, url, keys)

	status, body, err := call("POST", a.URL()+"/v1/practitioners", a.AdminToken,
		`{"occurred_on":"2024-01-10","data":{"name":"Casey Fictional","profession":"education"}}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, body)
	var reg struct {
		ID       string `json:"id"`
		Revision uint64 `json:"revision"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &reg))
	require.NotEmpty(t, reg.ID)
	require.Equal(t, uint64(0), reg.Revision)

	// B learns of the practitioner by its own subscription: its list is a
	// read model, not a read of the stream.
	require.Eventually(t, func() bool {
		status, body, err := call("GET", b.URL()+"/v1/practitioners", b.AdminToken, "")
		return err == nil && status == http.StatusOK && strings.Contains(body, reg.ID)
	}, time.Minute, 10*time.Millisecond, "server B's list never showed the practitioner registered through A")
	status, body, err = call("GET", b.URL()+"/v1/practitioners/"+reg.ID, b.AdminToken, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Casey Fictional")

	const rounds = 6
	for round := 1; round <= rounds; round++ {
		servers := []*Main{a, b}
		statuses := make([]int, len(servers))
		bodies := make([]string, len(servers))
		errs := make([]error, len(servers))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, m := range servers {
			wg.Go(func() {
				<-start
				statuses[i], bodies[i], errs[i] = call("POST", m.URL()+"/v1/practitioners/"+reg.ID+"/events", m.AdminToken, fmt.Sprintf(
					`{"type":"CPDEngagementRecorded","occurred_on":"2024-09-12","expected_revision":%d,"data":{"kind":"practitioner_development","hours":1,"title":"Round %d through server %c"}}`,
					round-1, round, 'A'+i))
			})
		}
		close(start)
		wg.Wait()
		for i := range servers {
			require.NoError(t, errs[i])
		}
		assert.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, statuses, "round %d: %v", round, bodies)
		for i, s := range statuses {
			switch s {
			case http.StatusCreated:
				assert.Contains(t, bodies[i], fmt.Sprintf(`"revision":%d`, round), "round %d", round)
			case http.StatusConflict:
				assert.Contains(t, bodies[i], `"code":"conflict"`, "round %d", round)
			}
		}
	}

	// One stream, revisions 0..rounds with no gap and no fork, the same
	// through both servers.
	var histories [2][]map[string]any
	for i, m := range []*Main{a, b} {
		status, body, err := call("GET", m.URL()+"/v1/practitioners/"+reg.ID+"/history", m.AdminToken, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, body)
		var page struct {
			Items []map[string]any `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		require.Len(t, page.Items, rounds+1)
		for rev, item := range page.Items {
			assert.EqualValues(t, rev, item["revision"])
			if rev > 0 {
				assert.Equal(t, page.Items[rev-1]["hash"], item["prev_hash"], "revision %d follows on", rev)
			}
		}
		histories[i] = page.Items
	}
	assert.Equal(t, histories[0], histories[1])

	for _, m := range []*Main{a, b} {
		status, body, err := call("GET", m.URL()+"/v1/verify", m.AdminToken, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, body)
		var rep struct {
			OK            bool `json:"ok"`
			EventsChecked int  `json:"events_checked"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &rep))
		assert.True(t, rep.OK, body)
		assert.Equal(t, rounds+1, rep.EventsChecked)
	}
}

// TestLedgerBinaryLeavesOutTheProtocolDouble: the protocol double is test
// code, so the ledger command must not link it.
func TestLedgerBinaryLeavesOutTheProtocolDouble(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the ledger's dependencies")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(goTool, "list", "-deps", ".")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/imattertraining/ledger/eventstore/kurrentdb", "the list is the ledger's")
	for _, d := range deps {
		assert.NotContains(t, d, "protocoldouble")
	}
}
