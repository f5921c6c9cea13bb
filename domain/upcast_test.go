package domain

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite testdata/schema from the current encodings")

// storedFixture is an event as a store holds it, reduced to what decoding needs.
type storedFixture struct {
	Type          string          `json:"type"`
	SchemaVersion uint16          `json:"schema_version"`
	OccurredOn    string          `json:"occurred_on"`
	Data          json.RawMessage `json:"data"`
}

func readFixture(t *testing.T, name string) storedFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var f storedFixture
	require.NoError(t, json.Unmarshal(b, &f))
	return f
}

func TestUpcastStoredV1(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    Event
		encoded string // the current version's encoding of the upcast event
	}{
		{
			name:    "ProfessionalStandingEvidenced v1 organisation becomes body, open-ended",
			fixture: "ProfessionalStandingEvidenced.v1.json",
			want:    &ProfessionalStandingEvidenced{Body: "Example Professional Council"},
			encoded: `{"body":"Example Professional Council"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readFixture(t, tt.fixture)
			info, ok := Lookup(f.Type)
			require.True(t, ok)
			require.Less(t, f.SchemaVersion, info.Version, "the fixture is an old version")

			ev, err := DecodeStored(f.Type, f.SchemaVersion, f.Data)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ev)

			data, version, err := Encode(ev)
			require.NoError(t, err)
			assert.Equal(t, info.Version, version, "re-encoding writes the current version")
			assert.JSONEq(t, tt.encoded, string(data))

			// The old shape is history only: a new event in it is refused,
			// naming the field that was renamed.
			_, err = DecodeNew(f.Type, f.Data)
			assert.Equal(t, "data.organisation", ErrorField(err))
		})
	}
}

// TestCurrentSchemasUnchanged pins the encoding of every type's current
// version to testdata/schema. A failure means a field's JSON name or form
// changed: that is a new schema version with an upcaster (see upcast.go),
// not an edit. Run with -update-schemas only for a new type or a new version.
func TestCurrentSchemasUnchanged(t *testing.T) {
	for typ, ev := range catSamples() {
		t.Run(typ, func(t *testing.T) {
			data, version, err := Encode(ev)
			require.NoError(t, err)
			path := filepath.Join("testdata", "schema", fmt.Sprintf("%s.v%d.json", typ, version))
			if *updateSchemas {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
			}
			golden, err := os.ReadFile(path)
			require.NoError(t, err, "no pinned encoding for %s version %d: run go test -run TestCurrentSchemasUnchanged -update-schemas", typ, version)
			assert.JSONEq(t, string(golden), string(data))

			// The pinned bytes are history too: they must keep decoding.
			stored, err := DecodeStored(typ, version, golden)
			require.NoError(t, err)
			assert.Equal(t, ev, stored)
		})
	}
}
