package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/eventstore/keystore/keystoretest"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// The demo's most complete practitioner, an invented adult.
const (
	demoName  = "Alex Example"
	demoEmail = "alex@example.org"
)

// erasedEverywhere checks what issue 14 asks after an erasure: the name and
// email in no data file, no response and no export; the level and the
// decisions kept; every chain verifying.
func erasedEverywhere(t *testing.T, dir, when string) {
	t.Helper()
	for _, s := range []string{demoName, demoEmail} {
		assert.Empty(t, keystoretest.FilesHolding(t, dir, s), "%s: %q in a data file", when, s)
	}
	code, out, errb := run(t, "export", "--data", dir)
	require.Equal(t, 0, code, errb)
	assert.NotContains(t, out, demoName, when)
	assert.Contains(t, errb, "sealed", "%s: export says the names are sealed", when)
	code, out, errb = run(t, "replay", "--data", dir, "--practitioner", demoPractitioner, "--as-of", demoDate(t, "2024-06-01"))
	require.Equal(t, 0, code, errb)
	assert.NotContains(t, out, demoName, when)
	assert.Contains(t, out, domain.ErasedName, when)
	code, out, errb = run(t, "verify", "--data", dir)
	assert.Equal(t, 0, code, "%s: %s", when, errb)
	assert.Contains(t, out, "OK:", when)

	m := serve(t, dir, false)
	tok, err := auth.Open(dir).Add("test-admin-"+uuid.NewString()[:8], api.RoleAdmin, 0)
	require.NoError(t, err)
	for _, path := range []string{"/v1/practitioners/" + demoPractitioner, "/v1/practitioners/" + demoPractitioner + "/history", "/v1/practitioners", "/v1/decisions?status=all", "/v1/directory", "/v1/events"} {
		code, body := get(t, m.URL()+path, tok)
		require.Equal(t, 200, code, "%s %s: %s", when, path, body)
		assert.NotContains(t, body, demoName, "%s: %s", when, path)
		assert.NotContains(t, body, demoEmail, "%s: %s", when, path)
	}
	_, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner+"?as_of="+demoDate(t, "2024-06-01"), tok)
	assert.Contains(t, body, `"name":"[erased]"`, when)
	assert.Contains(t, body, `"level":1`, "%s: the level stays", when)
	require.NoError(t, m.Close())
	for _, s := range []string{demoName, demoEmail} {
		assert.Empty(t, keystoretest.FilesHolding(t, dir, s), "%s, after a restart: %q in a data file", when, s)
	}
}

func TestErase(t *testing.T) {
	const reason = "Erasure requested by the practitioner under UK GDPR."
	t.Run("with the store free", func(t *testing.T) {
		dir := demoDir(t)
		m := serve(t, dir, false)
		tok := adminToken(t, dir)
		_, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner+"?as_of="+demoDate(t, "2024-06-01"), tok)
		require.Contains(t, body, `"level":1`)
		_, body = get(t, m.URL()+"/v1/practitioners", tok) // waits for the read models
		require.Contains(t, body, demoName)
		require.NoError(t, m.Close())
		// The demo names were sealed on the way in; the snapshot holds them.
		assert.Equal(t, []string{"projections.snapshot"}, keystoretest.FilesHolding(t, dir, demoName))

		cp := filepath.Join(t.TempDir(), "before-erasure.json")
		code, _, errb := run(t, "checkpoint", "--data", dir, "--out", cp)
		require.Equal(t, 0, code, errb)

		code, out, errb := run(t, "erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", reason)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, "Erased the personal data of practitioner-"+demoPractitioner)
		assert.NotContains(t, errb, "Warning", "the demo was sealed from the start")
		erasedEverywhere(t, dir, "offline")
		// The hashes cover the ciphertext, which the erasure did not touch:
		// the checkpoint taken before it still verifies.
		code, out, errb = run(t, "verify", "--data", dir, "--against", cp)
		assert.Equal(t, 0, code, "%s%s", out, errb)

		code, _, errb = run(t, "rebuild", "--data", dir)
		require.Equal(t, 0, code, errb)
		erasedEverywhere(t, dir, "after an offline rebuild")
	})
	t.Run("while the server runs", func(t *testing.T) {
		dir := t.TempDir()
		m := serve(t, dir, true)
		code, out, errb := run(t, "erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", reason)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, errb, "through the server")
		assert.Contains(t, out, "Erased the personal data")
		_, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner, m.AdminToken)
		assert.Contains(t, body, `"name":"[erased]"`)
		for _, s := range []string{demoName, demoEmail} {
			assert.Empty(t, keystoretest.FilesHolding(t, dir, s), "while serving: %q in a data file", s)
		}
		list, err := auth.Open(dir).List()
		require.NoError(t, err)
		for _, tok := range list {
			assert.False(t, strings.HasPrefix(tok.Name, "cli-erase"), "the minted admin token is revoked: %s", tok.Name)
		}
		code, _, errb = run(t, "erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", reason)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "already erased")
		require.NoError(t, m.Close())
		erasedEverywhere(t, dir, "after an erasure through the server")
	})
	t.Run("bad input changes nothing", func(t *testing.T) {
		dir := demoDir(t)
		keysBefore, err := os.ReadFile(filepath.Join(dir, keystore.FileName))
		require.NoError(t, err)
		code, _, errb := run(t, "verify", "--data", dir)
		require.Equal(t, 0, code, errb)
		cases := []struct {
			name string
			args []string
			code int
			msg  string
		}{
			{"no practitioner", []string{"erase", "--data", dir, "--reason", reason}, 2, "--practitioner ID is required"},
			{"not an id", []string{"erase", "--data", dir, "--practitioner", "alex", "--reason", reason}, 2, "not a practitioner id"},
			{"no reason", []string{"erase", "--data", dir, "--practitioner", demoPractitioner}, 1, "reason"},
			{"an email in the reason", []string{"erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", "Asked by " + demoEmail}, 1, "reason"},
			{"an unknown practitioner", []string{"erase", "--data", dir, "--practitioner", uuid.NewString(), "--reason", reason}, 1, "not registered"},
			{"an argument", []string{"erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", reason, "extra"}, 2, "no arguments"},
			{"no ledger", []string{"erase", "--data", t.TempDir(), "--practitioner", demoPractitioner, "--reason", reason}, 1, "no ledger"},
		}
		for _, c := range cases {
			code, _, errb := run(t, c.args...)
			assert.Equal(t, c.code, code, "%s: %s", c.name, errb)
			assert.Contains(t, errb, c.msg, c.name)
		}
		keysAfter, err := os.ReadFile(filepath.Join(dir, keystore.FileName))
		require.NoError(t, err)
		assert.Equal(t, keysBefore, keysAfter, "no key deleted")
		_, out, _ := run(t, "export", "--data", dir)
		assert.Equal(t, demoEvents(), strings.Count(out, "\n"), "nothing stored")
		_, out, _ = run(t, "replay", "--data", dir, "--practitioner", demoPractitioner)
		assert.Contains(t, out, demoName, "nothing erased")
	})
}

// TestEraseOnKurrentDBWithTwoServers: on KurrentDB the store holds the
// same ciphertext; two servers sharing one key file both open the name,
// and an erasure through one reads as erased through the other once it
// meets the PersonalDataErased event, its snapshot rewritten without the
// name.
func TestEraseOnKurrentDBWithTwoServers(t *testing.T) {
	url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()
	keys := filepath.Join(t.TempDir(), keystore.FileName)
	a := serveKurrentDB(t, url, keys)
	b := serveKurrentDB(t, url, keys)
	const name = "Morwenna Twoservers"
	status, body, err := call("POST", a.URL()+"/v1/practitioners", a.AdminToken, `{"occurred_on":"2024-01-10","data":{"name":"`+name+`","profession":"education"}}`)
	require.NoError(t, err)
	require.Equal(t, 201, status, body)
	var reg struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &reg))
	for _, e := range kurrentEvents(t, url) {
		assert.NotContains(t, string(e.Data), name, "KurrentDB holds the ciphertext only")
	}
	require.Eventually(t, func() bool {
		_, body, err := call("GET", b.URL()+"/v1/practitioners", b.AdminToken, "")
		return err == nil && strings.Contains(body, name)
	}, time.Minute, 10*time.Millisecond, "server B opens the name sealed through A")

	status, body, err = call("POST", a.URL()+"/v1/practitioners/"+reg.ID+"/erasure", a.AdminToken, `{"reason":"Erasure requested by the practitioner."}`)
	require.NoError(t, err)
	require.Equal(t, 201, status, body)
	require.Eventually(t, func() bool {
		_, body, err := call("GET", b.URL()+"/v1/practitioners", b.AdminToken, "")
		return err == nil && !strings.Contains(body, name) && strings.Contains(body, domain.ErasedName)
	}, time.Minute, 10*time.Millisecond, "server B reads the name as erased")
	for _, m := range []*Main{a, b} {
		for _, path := range []string{"/v1/practitioners/" + reg.ID, "/v1/practitioners/" + reg.ID + "/history"} {
			_, body, err := call("GET", m.URL()+path, m.AdminToken, "")
			require.NoError(t, err)
			assert.NotContains(t, body, name, path)
		}
	}
	// B's snapshot is rewritten when it takes the erasure in.
	require.NoError(t, b.Close())
	require.NoError(t, a.Close())
	for _, dir := range []string{a.Data, b.Data, filepath.Dir(keys)} {
		assert.Empty(t, keystoretest.FilesHolding(t, dir, name), dir)
	}
}

// TestDamagedKeyStore: a key file that cannot be read fails what shows
// names, with a message naming it, and leaves verify and export alone.
func TestDamagedKeyStore(t *testing.T) {
	dir := demoDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, keystore.FileName), []byte("{\"stream\":\n"), 0o600))
	code, out, errb := run(t, "verify", "--data", dir)
	assert.Equal(t, 0, code, errb)
	assert.Contains(t, out, "OK:")
	code, _, errb = run(t, "export", "--data", dir)
	assert.Equal(t, 0, code, errb)
	code, _, errb = run(t, "replay", "--data", dir, "--practitioner", demoPractitioner)
	assert.Equal(t, 1, code)
	assert.Contains(t, errb, "damaged")
	code, _, errb = run(t, "erase", "--data", dir, "--practitioner", demoPractitioner, "--reason", "Erasure requested by the practitioner.")
	assert.Equal(t, 1, code)
	assert.Contains(t, errb, "damaged")
}

// TestImportSealedExport: an export carries names sealed; restored into an
// empty store without the key file they read as unavailable (the record
// whole, every hash the same), and with the key file copied beside it they
// open again.
func TestImportSealedExport(t *testing.T) {
	dir := demoDir(t)
	file := filepath.Join(t.TempDir(), "export.jsonl")
	code, _, errb := run(t, "export", "--data", dir, "--out", file)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, errb, "sealed")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.NotContains(t, string(b), demoName)

	fresh := t.TempDir()
	code, _, errb = run(t, "import", "--data", fresh, file)
	require.Equal(t, 0, code, errb)
	code, out, errb := run(t, "replay", "--data", fresh, "--practitioner", demoPractitioner, "--as-of", demoDate(t, "2024-06-01"))
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, domain.UnavailableName)
	assert.NotContains(t, out, demoName)
	code, _, errb = run(t, "verify", "--data", fresh)
	assert.Equal(t, 0, code, errb)

	keys, err := os.ReadFile(filepath.Join(dir, keystore.FileName))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(fresh, keystore.FileName), keys, 0o600))
	code, out, errb = run(t, "replay", "--data", fresh, "--practitioner", demoPractitioner, "--as-of", demoDate(t, "2024-06-01"))
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, demoName, "the keys open the restored names")
}
