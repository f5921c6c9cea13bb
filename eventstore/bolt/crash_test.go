package bolt

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// Environment of the crash child: the store's file and the seed of its
// random choices.
const (
	crashChildEnv = "LEDGER_BOLT_CRASH_CHILD"
	crashSeedEnv  = "LEDGER_BOLT_CRASH_SEED"
)

// ackedEvent is what the child reported for an acknowledged event.
type ackedEvent struct {
	stream   string
	revision uint64
	position eventstore.Position
	dataSum  string
	metaSum  string
	round    int
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCrashChild is the child of TestCrashSafety: it does nothing unless
// run by it. It appends from several goroutines until it is killed, and
// prints each event of an acknowledged append on stdout once Append has
// returned:
//
//	ACK <stream> <revision> <position> <id> <sha256 of data> <sha256 of metadata>
//
// A check that fails inside the child prints a line starting with BAD.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestCrashSafety only")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Printf("BAD open: %v\n", err)
		return
	}
	// The parent kills the child; this is only a backstop if it never does.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out sync.Mutex
	report := func(lines []byte) {
		out.Lock()
		defer out.Unlock()
		// One write per append, under PIPE_BUF, so the parent never reads
		// half of an append's lines.
		if _, err := os.Stdout.Write(lines); err != nil {
			os.Exit(1) // the parent has gone
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var last []eventstore.EventData
			var lastRes eventstore.AppendResult
			var lastStream string
			for ctx.Err() == nil {
				if last != nil && r.IntN(10) == 0 {
					// An idempotent retry of the last append, which must
					// store nothing and answer as the first time.
					res, err := s.Append(ctx, lastStream, eventstore.NoStream(), last...)
					if err != nil || res != lastRes {
						report(fmt.Appendf(nil, "BAD retry of %s: %+v, %v, want %+v\n", last[0].ID, res, err, lastRes))
					}
					continue
				}
				stream := fmt.Sprintf("practitioner-%d", r.IntN(8))
				evs := make([]eventstore.EventData, 1+r.IntN(3))
				for i := range evs {
					data := make([]byte, 40+r.IntN(400))
					for j := range data {
						data[j] = 'a' + byte(r.IntN(26))
					}
					evs[i] = eventstore.EventData{
						ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01",
						RecordedBy: "admin:Test Administrator",
						Data:       fmt.Appendf(nil, `{"note":"%s"}`, data),
						Metadata:   fmt.Appendf(nil, `{"writer":%d}`, w),
					}
				}
				res, err := s.Append(ctx, stream, eventstore.Any(), evs...)
				if err != nil {
					if ctx.Err() == nil {
						report(fmt.Appendf(nil, "BAD append: %v\n", err))
					}
					return
				}
				var lines []byte
				for i, e := range evs {
					lines = fmt.Appendf(lines, "ACK %s %d %d %s %s %s\n", stream, res.FirstRevision+uint64(i),
						res.FirstPosition+eventstore.Position(i), e.ID, sum(e.Data), sum(e.Metadata))
				}
				report(lines)
				last, lastRes, lastStream = evs, res, stream
			}
		})
	}
	wg.Wait()
}

// TestCrashSafety kills a process that appends at random moments, many
// times over, and checks after each kill that every append acknowledged to
// the process is in the file exactly once, byte for byte, and every chain
// verifies.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("this is the child")
	}
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	path := filepath.Join(t.TempDir(), "events.db")
	acked := map[uuid.UUID]ackedEvent{}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range rounds {
		// Kill after a random number of acknowledgements (0: while the
		// child may still be opening the file), plus a random moment.
		killAfter := r.IntN(80)
		if round%5 == 0 {
			killAfter = 0
		}
		delay := time.Duration(r.IntN(20_000)) * time.Microsecond
		got := runCrashChild(t, path, round, r.Uint64(), killAfter, delay)
		for id, a := range got {
			_, dup := acked[id]
			require.False(t, dup, "round %d: event %s acknowledged twice", round, id)
			acked[id] = a
		}
		checkAcked(t, path, round, acked)
	}
	t.Logf("%d rounds, %d acknowledged events", rounds, len(acked))
}

// runCrashChild runs one child until it has acknowledged killAfter events
// (or ended), waits delay, kills it with SIGKILL and returns the events it
// acknowledged.
func runCrashChild(t *testing.T, path string, round int, seed uint64, killAfter int, delay time.Duration) map[uuid.UUID]ackedEvent {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashSeedEnv+"="+strconv.FormatUint(seed, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	got := map[uuid.UUID]ackedEvent{}
	var bad []string
	reached := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		n := 0
		if killAfter == 0 {
			close(reached)
		}
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "BAD"):
				bad = append(bad, line)
			case strings.HasPrefix(line, "ACK "):
				f := strings.Fields(line)
				if len(f) != 7 {
					bad = append(bad, "malformed: "+line)
					continue
				}
				rev, err1 := strconv.ParseUint(f[2], 10, 64)
				pos, err2 := strconv.ParseUint(f[3], 10, 64)
				id, err3 := uuid.Parse(f[4])
				if err1 != nil || err2 != nil || err3 != nil {
					bad = append(bad, "malformed: "+line)
					continue
				}
				got[id] = ackedEvent{stream: f[1], revision: rev, position: eventstore.Position(pos), dataSum: f[5], metaSum: f[6], round: round}
				if n++; n == killAfter {
					close(reached)
				}
			}
		}
	}()
	select {
	case <-reached:
	case <-done:
	}
	time.Sleep(delay)
	require.NoError(t, cmd.Process.Kill())
	killed = true
	<-done // every line the child wrote before it died
	_ = cmd.Wait()
	assert.Empty(t, bad, "round %d: the child reported failures", round)
	assert.NotContains(t, stderr.String(), "DATA RACE", "round %d", round)
	if t.Failed() {
		t.Logf("child's stderr:\n%s", stderr.String())
	}
	return got
}

// checkAcked reopens the file and checks every acknowledged event.
func checkAcked(t *testing.T, path string, round int, acked map[uuid.UUID]ackedEvent) {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		require.Empty(t, acked, "round %d: no file, yet appends were acknowledged", round)
		return // killed before it created the file
	}
	s, err := Open(path, Options{})
	require.NoError(t, err, "round %d: reopen after the kill", round)
	defer func() { require.NoError(t, s.Close()) }()
	ctx := t.Context()
	seen := map[uuid.UUID]int{}
	var next eventstore.Position = 1
	for e, err := range s.ReadAll(ctx, eventstore.Start) {
		require.NoError(t, err, "round %d", round)
		require.Equal(t, next, e.Position, "round %d: positions are contiguous", round)
		next++
		seen[e.ID]++
		a, ok := acked[e.ID]
		if !ok {
			continue // committed but killed before it was acknowledged
		}
		assert.Equal(t, a.stream, e.Stream, "round %d: stream of %s", round, e.ID)
		assert.Equal(t, a.revision, e.Revision, "round %d: revision of %s", round, e.ID)
		assert.Equal(t, a.position, e.Position, "round %d: position of %s", round, e.ID)
		assert.Equal(t, a.dataSum, sum(e.Data), "round %d: data of %s", round, e.ID)
		assert.Equal(t, a.metaSum, sum(e.Metadata), "round %d: metadata of %s", round, e.ID)
	}
	for id, a := range acked {
		assert.Equal(t, 1, seen[id], "round %d: event %s acknowledged in round %d is stored %d times", round, id, a.round, seen[id])
	}
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err, "round %d", round)
	assert.True(t, rep.OK, "round %d: %+v", round, rep.FirstFailure)
	require.False(t, t.Failed(), "round %d failed", round)
}
