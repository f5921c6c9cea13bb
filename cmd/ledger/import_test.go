package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// storeEvents opens dir's store and returns every event.
func storeEvents(t *testing.T, dir string) []eventstore.RecordedEvent {
	t.Helper()
	s, err := openBolt(dir, 0)
	require.NoError(t, err)
	defer s.Close()
	var out []eventstore.RecordedEvent
	for e, err := range s.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

const goodCSV = `stream,type,occurred_on,data
organisation-5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c99,OrganisationRegistered,2023-01-08,"{""name"":""Demo Valley Service"",""kind"":""service"",""registered_service"":true}"
practitioner-11111111-2222-4333-8444-555555555501,PractitionerRegistered,2023-01-10,"{""name"":""Riley Fictional"",""profession"":""health""}"
practitioner-11111111-2222-4333-8444-555555555501,PractitionerJoinedOrganisation,2023-01-11,"{""organisation_id"":""5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c99""}"
practitioner-11111111-2222-4333-8444-555555555501,CourseCompleted,2023-02-01,"{""course"":""foundation_a_part1""}"
practitioner-11111111-2222-4333-8444-555555555501,LicenceGranted,2023-03-01,"{""licence_id"":""L-X"",""kind"":""level3a"",""valid_until"":""2024-03-01"",""decided_by"":""Demo Panel"",""rationale"":""Historical grant ahead of the evidence."",""exception"":true}"
`

func TestImportCSV(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, "history.csv", goodCSV)
	code, _, errb := run(t, "import", "--data", dir, file)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, errb, "Imported 5 events")
	events := storeEvents(t, dir)
	require.Len(t, events, 5)
	assert.Equal(t, "import", events[1].RecordedBy)
	assert.Contains(t, string(events[4].Data), `"rulebook_version":"v1.1"`, "decisions are evaluated on import too, under the current rulebook")

	t.Run("importing again stores nothing twice", func(t *testing.T) {
		code, _, errb := run(t, "import", "--data", dir, file)
		require.Equal(t, 0, code, errb)
		assert.Len(t, storeEvents(t, dir), 5)
	})

	bad := []struct {
		name, csv string
		want      []string
	}{
		{"bad rows are all reported with their lines", goodCSV +
			"practitioner-11111111-2222-4333-8444-555555555501,CourseCompleted,2023-13-01,\"{\"\"course\"\":\"\"foundation_b\"\"}\"\n" +
			"practitioner-11111111-2222-4333-8444-555555555501,CourseCompleted,2023-04-01,\"{\"\"course\"\":\"\"foundation_z\"\"}\"\n" +
			"practitioner-11111111-2222-4333-8444-555555555501,CoursePassed,2023-04-01,{}\n",
			[]string{"line 7: occurred_on", "line 8: data.course", "line 9: type"}},
		{"a row needing an earlier one fails when it is missing", strings.Replace(goodCSV, "organisation-5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c99,OrganisationRegistered", "organisation-5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c98,OrganisationRegistered", 1),
			[]string{"line 4: data.organisation_id"}},
		// Issue 16 item 13: FieldPos after a parse error panicked.
		{"a stray quote in the first field", "stream,type,occurred_on,data\na\"b,x,y,z\n",
			[]string{"line 2: not valid CSV (column 2: bare \" in non-quoted-field)"}},
		{"a stray quote after good rows", goodCSV + "\"a\"b,x\n",
			[]string{"line 7: not valid CSV"}},
		{"unknown column", "stream,type,occurred_on,data,colour\n", []string{"colour"}},
		{"missing column", "stream,type,data\n", []string{"occurred_on"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			fresh := t.TempDir()
			code, _, errb := run(t, "import", "--data", fresh, writeFile(t, "bad.csv", tc.csv))
			assert.Equal(t, 1, code)
			for _, w := range tc.want {
				assert.Contains(t, errb, w)
			}
			assert.Empty(t, storeEvents(t, fresh), "all or nothing")
		})
	}

	t.Run("refused while the server runs", func(t *testing.T) {
		serve(t, dir, false)
		code, _, errb := run(t, "import", "--data", dir, file)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "running ledger server")
	})
}

// TestImportAGrownExport imports an early export (cut inside a stream) and
// then a later one that holds it and more: the second import adds only the
// new events, and the result is the whole ledger with its hashes.
func TestImportAGrownExport(t *testing.T) {
	src := demoDir(t)
	code, out, errb := run(t, "export", "--data", src)
	require.Equal(t, 0, code, errb)
	lines := strings.SplitAfter(strings.TrimSpace(out), "\n")
	cut := len(lines) / 2
	require.Contains(t, lines[cut-1], `"stream":"practitioner-`+demoPractitioner)
	require.Contains(t, lines[cut], `"stream":"practitioner-`+demoPractitioner, "the cut falls inside a stream")

	dst := t.TempDir()
	code, _, errb = run(t, "import", "--data", dst, writeFile(t, "early.jsonl", strings.Join(lines[:cut], "")))
	require.Equal(t, 0, code, errb)
	require.Len(t, storeEvents(t, dst), cut)
	code, _, errb = run(t, "import", "--data", dst, writeFile(t, "later.jsonl", out))
	require.Equal(t, 0, code, errb)
	assert.Contains(t, errb, fmt.Sprintf("Imported %d events", len(lines)-cut))
	orig, copied := storeEvents(t, src), storeEvents(t, dst)
	require.Len(t, copied, len(orig))
	for i := range orig {
		assert.Equal(t, orig[i].ID, copied[i].ID)
		assert.Equal(t, orig[i].Hash, copied[i].Hash, "event %d keeps its hash", i)
	}
}

// FuzzReadCSV feeds random files to the CSV import's reader: it must never
// panic, and every row and fault it reports has a line in the file.
func FuzzReadCSV(f *testing.F) {
	f.Add(goodCSV)
	f.Add("stream,type,occurred_on,data\na\"b,x,y,z\n")
	f.Add("stream,type,occurred_on,data\n\"a\nb\",x\n\"\n")
	f.Add("\ufeffid,data,type,stream,occurred_on\n,,,,\n")
	f.Fuzz(func(t *testing.T, file string) {
		_, rows, bad, err := readCSV(strings.NewReader(file))
		if err != nil {
			return
		}
		lines := strings.Count(file, "\n") + 1
		last := 1
		for _, r := range rows {
			assert.Greater(t, r.line, last, "rows come after the header, in order")
			assert.LessOrEqual(t, r.line, lines)
			last = r.line
		}
		for _, b := range bad {
			assert.GreaterOrEqual(t, b.line, last, "a fault stops the reading")
			assert.LessOrEqual(t, b.line, lines)
		}
	})
}
