//go:build crashpoints

package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

const (
	crashpointPathEnv = "LEDGER_BOLT_CRASHPOINT_PATH"
	crashpointIDEnv   = "LEDGER_BOLT_CRASHPOINT_ID"
)

// TestCrashpointChild is the child of TestCrashpoints: it appends one event
// with the id it is given, in a process where LEDGER_CRASHPOINT is set, and
// prints ACKED if the append ever returns.
func TestCrashpointChild(t *testing.T) {
	path := os.Getenv(crashpointPathEnv)
	if path == "" || os.Getenv(crashpointEnv) == "" {
		t.Skip("run by TestCrashpoints only")
	}
	s, err := Open(path, Options{})
	require.NoError(t, err)
	e := storetest.Event("CourseCompleted")
	e.ID = uuid.MustParse(os.Getenv(crashpointIDEnv))
	_, err = s.Append(t.Context(), "practitioner-1", eventstore.Exact(0), e)
	fmt.Printf("ACKED %v\n", err)
}

// TestCrashpoints kills a writer at each named crash point and checks what
// the file holds after: nothing of the append if it died before the
// commit, the whole append if it died after the commit but before
// acknowledging it.
func TestCrashpoints(t *testing.T) {
	if os.Getenv(crashpointEnv) != "" {
		t.Skip("this is the child")
	}
	cases := []struct {
		point   string
		present bool
	}{
		{"before_commit", false},
		{"after_commit", true},
	}
	for _, tc := range cases {
		t.Run(tc.point, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			s, err := Open(path, Options{})
			require.NoError(t, err)
			first, err := s.Append(t.Context(), "practitioner-1", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
			require.NoError(t, err)
			require.NoError(t, s.Close())

			id := uuid.New()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashpointChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashpointEnv+"="+tc.point, crashpointPathEnv+"="+path, crashpointIDEnv+"="+id.String())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "the child must be killed, not exit: %v\n%s%s", err, stdout.String(), stderr.String())
			ws, ok := exit.Sys().(syscall.WaitStatus)
			require.True(t, ok)
			require.True(t, ws.Signaled(), "child exit: %v\n%s", err, stderr.String())
			assert.Equal(t, syscall.SIGKILL, ws.Signal())
			assert.NotContains(t, stdout.String(), "ACKED", "the append must not have returned")

			s2 := openAt(t, path, Options{}, nil)
			got, err := s2.ReadStream(t.Context(), "practitioner-1", eventstore.ReadOptions{})
			require.NoError(t, err)
			if tc.present {
				require.Len(t, got, 2)
				assert.Equal(t, id, got[1].ID)
				assert.Equal(t, first.LastPosition+1, got[1].Position)
			} else {
				require.Len(t, got, 1)
			}
			rep, err := eventstore.Verify(t.Context(), s2)
			require.NoError(t, err)
			assert.True(t, rep.OK)

			// The store goes on from what the file holds.
			res, err := s2.Append(t.Context(), "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
			require.NoError(t, err)
			assert.Equal(t, uint64(len(got)), res.FirstRevision)
		})
	}
}
