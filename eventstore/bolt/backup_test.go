package bolt

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func TestBackupIsAConsistentCopy(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx := t.Context()
	for i := range 50 {
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i%7), eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01", RecordedBy: "admin:Test Administrator", Data: []byte(`{}`),
		})
		require.NoError(t, err)
	}
	var size int64
	var buf bytes.Buffer
	require.NoError(t, s.Backup(func(n int64, write func(io.Writer) (int64, error)) error {
		size = n
		_, err := write(&buf)
		return err
	}))
	assert.Equal(t, size, int64(buf.Len()), "Backup announces the size it writes")
	path := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	c := openAt(t, path, Options{}, nil)
	rep, err := eventstore.Verify(ctx, c)
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.Equal(t, 50, rep.EventsChecked)
}
