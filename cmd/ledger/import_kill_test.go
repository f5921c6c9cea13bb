package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// importKillEnv and importKillFileEnv, in the environment of the test
// binary, make TestImportKillChild run `ledger import --data DIR FILE`.
const (
	importKillEnv     = "LEDGER_IMPORT_KILL_DIR"
	importKillFileEnv = "LEDGER_IMPORT_KILL_FILE"
)

// TestImportKillChild is the child of TestImportKilled: it does nothing
// unless run by it.
func TestImportKillChild(t *testing.T) {
	dir, file := os.Getenv(importKillEnv), os.Getenv(importKillFileEnv)
	if dir == "" {
		t.Skip("run by TestImportKilled only")
	}
	os.Exit(Run(context.Background(), []string{"import", "--data", dir, file}, strings.NewReader(""), os.Stdout, os.Stderr))
}

// bigImportCSV writes a CSV of one organisation and practitioners
// practitioners of five facts each, and returns its path and event count.
func bigImportCSV(t *testing.T, practitioners int) (string, int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("stream,type,occurred_on,data\n")
	org := "5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c99"
	fmt.Fprintf(&b, "organisation-%s,OrganisationRegistered,2023-01-08,\"{\"\"name\"\":\"\"Demo Valley Service\"\",\"\"kind\"\":\"\"service\"\",\"\"registered_service\"\":true}\"\n", org)
	ns := uuid.MustParse("8d2f6b3e-41a7-4c0e-9b5d-2e7f1a6c3b90")
	for i := range practitioners {
		p := "practitioner-" + uuid.NewSHA1(ns, fmt.Appendf(nil, "%d", i)).String()
		fmt.Fprintf(&b, "%s,PractitionerRegistered,2023-01-10,\"{\"\"name\"\":\"\"Riley Fictional %d\"\",\"\"profession\"\":\"\"health\"\"}\"\n", p, i)
		fmt.Fprintf(&b, "%s,PractitionerJoinedOrganisation,2023-01-11,\"{\"\"organisation_id\"\":\"\"%s\"\"}\"\n", p, org)
		for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
			fmt.Fprintf(&b, "%s,CourseCompleted,2023-02-01,\"{\"\"course\"\":\"\"%s\"\"}\"\n", p, c)
		}
	}
	return writeFile(t, "big.csv", b.String()), 1 + 5*practitioners
}

// TestImportKilled kills `ledger import` of a 15,001-event CSV, or of its
// export (a restore), with SIGKILL at random moments, most of them while
// it stores what it checked,
// and checks after each kill that the store holds nothing of the file or
// all of it, and that every chain verifies (issue 16 item 11: five such
// kills left 1,736 to 12,166 of the 15,001 events).
func TestImportKilled(t *testing.T) {
	if os.Getenv(importKillEnv) != "" {
		t.Skip("this is the child")
	}
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	csvFile, total := bigImportCSV(t, 3000)
	// The same history exported, for rounds that restore it.
	full := t.TempDir()
	code, _, errb := run(t, "import", "--data", full, csvFile)
	require.Equal(t, 0, code, errb)
	code, export, errb := run(t, "export", "--data", full)
	require.Equal(t, 0, code, errb)
	jsonlFile := writeFile(t, "big.jsonl", export)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	outcomes := map[int]int{}
	for round := range rounds {
		dir := t.TempDir()
		// Most kills fall in the moments after the file is checked, when
		// the events are being stored; the others anywhere.
		file, marker := csvFile, "rows checked"
		if round%2 == 1 {
			file, marker = jsonlFile, "is restored"
		}
		delay := time.Duration(r.IntN(500_000)) * time.Microsecond
		if round%3 == 2 {
			marker, delay = "", time.Duration(r.IntN(1200))*time.Millisecond
		}
		code := runImportChild(t, dir, file, marker, delay)
		finished := code >= 0
		if finished {
			require.Equal(t, 0, code, "round %d: the import failed on its own", round)
		}
		events := storeEvents(t, dir)
		n := len(events)
		if n != 0 && n != total {
			t.Fatalf("round %d (killed %v after %q, finished %v): %d of %d events stored", round, delay, marker, finished, n, total)
		}
		if finished {
			assert.Equal(t, total, n, "round %d: the import ended on its own", round)
		}
		outcomes[n]++
		t.Logf("round %d (%s): killed %v after %q: %d events", round, filepath.Base(file), delay, marker, n)
		s, err := openBolt(dir, 0)
		require.NoError(t, err)
		rep, err := eventstore.Verify(context.Background(), s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "round %d: %+v", round, rep.FirstFailure)
		require.NoError(t, s.Close())
	}
	t.Logf("%d rounds: %d left nothing, %d everything", rounds, outcomes[0], outcomes[total])
}

// runImportChild starts the import in a child process, waits until its
// stderr shows marker (at once when marker is ""), then delay, and kills
// it. It returns the child's exit code, or -1 if the kill ended it.
func runImportChild(t *testing.T, dir, file, marker string, delay time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), importKillEnv+"="+dir, importKillFileEnv+"="+file)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	seen := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		sc.Split(scanLinesOrBars)
		once := false
		if marker == "" {
			close(seen)
			once = true
		}
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), marker) {
				close(seen)
				once = true
			}
		}
		if !once {
			close(seen)
		}
	}()
	<-seen
	time.Sleep(delay)
	_ = cmd.Process.Kill()
	<-drained
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

// scanLinesOrBars splits on newlines and on the carriage returns that
// redraw a progress bar.
func scanLinesOrBars(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\n' || c == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
