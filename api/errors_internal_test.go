package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// TestRecordedJSON: the answer to every append, written by hand, is byte
// for byte what the server's encoder writes (HTML characters unescaped),
// whatever the stream's name holds.
func TestRecordedJSON(t *testing.T) {
	streams := []string{
		"practitioner-0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10", "", `a "quoted" \ name`, "<b>&amp;</b>",
		"caf\u00e9 <x>", "line\nbreak\ttab\x01", "\u2028\u2029", "bad \xff byte", "emoji \U0001F600",
	}
	for i, stream := range streams {
		rec := Recorded{EventID: uuid.New(), Stream: stream, Revision: uint64(i) * 7919, Position: eventstore.Position(math.MaxUint64 - uint64(i))}
		if i == 0 {
			rec.EventID, rec.Revision, rec.Position = uuid.Nil, 0, 0
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(rec))
		assert.Equal(t, want.String(), string(appendRecorded(nil, rec)), "%q", stream)

		w := httptest.NewRecorder()
		writeJSON(w, http.StatusCreated, rec)
		assert.Equal(t, want.String(), w.Body.String())
		assert.Equal(t, strconv.Itoa(want.Len()), w.Header().Get("Content-Length"))
	}
}
