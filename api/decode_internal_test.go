package api

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeSeeds are bodies of every kind decodeStrict meets: plain ones the
// one-pass reading takes, and the escapes, odd numbers, repeated, unknown
// or misspelt keys, wrong kinds of value and broken JSON it leaves to the
// long way.
var decodeSeeds = []string{
	`{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1,"title":"Benchmark session"}}`,
	` { "id" : "0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10" , "type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"},"expected_revision":3 } `,
	`{"type":"CourseCompleted","data":null,"expected_revision":null,"id":null,"occurred_on":null}`,
	`{"type":"Course\"Completed","data":{}}`, `{"type":"Caf\u00e9","data":{}}`, `{"t\u0079pe":"x"}`,
	`{"expected_revision":-1}`, `{"expected_revision":1.5}`, `{"expected_revision":1e3}`, `{"expected_revision":18446744073709551616}`,
	`{"expected_revision":"3"}`, `{"type":3}`, `{"type":true}`, `{"id":{}}`, `{"data":[1,{"a":"}"}]}`, `{"data":"text"}`,
	`{"type":"a","type":"b"}`, `{"Type":"a"}`, `{"kind":"a"}`, `{"type":"a"} {}`, `{"type":"a",}`, `{"type":"a"`, `{}`,
	"{\"type\":\"\xff\"}", `{"data":{"title":"x\ud800y"}}`, `{"data":{"a":[true,false,null,-0.5e-3]}}`, `{"occurred_on":"2024-03-01"}` + "\u00a0",
}

// FuzzDecodeFast holds decodeFast to the long way's answers: whatever it
// reads, the long way accepts and decodes to the same request; whatever it
// leaves, it leaves untouched.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		trimmed := bytes.TrimSpace([]byte(body))
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		sameAsLongWay(t, trimmed, eventKeys, &eventRequest{}, &eventRequest{})
		sameAsLongWay(t, trimmed, registerKeys, &registerRequest{}, &registerRequest{})
	})
}

func sameAsLongWay[T any, P interface {
	*T
	fastBody
}](t *testing.T, trimmed []byte, keys []string, fast, slow P) {
	t.Helper()
	var zero T
	ok := decodeFast(trimmed, keys, fast)
	err := decodeChecked(trimmed, slow, keys)
	if !ok {
		assert.Equal(t, zero, *fast, "left, yet changed: %q", trimmed)
		return
	}
	require.NoError(t, err, "read in one pass, refused the long way: %q", trimmed)
	assert.Equal(t, *slow, *fast, "%q", trimmed)
}

// TestDecodeFastTakesPlainBodies: the bodies clients send every day (the
// HTTP benchmark's among them) are read in one pass, not the long way.
func TestDecodeFastTakesPlainBodies(t *testing.T) {
	for _, body := range decodeSeeds[:3] {
		var req eventRequest
		assert.True(t, decodeFast(bytes.TrimSpace([]byte(body)), eventKeys, &req), body)
	}
	var req eventRequest
	require.NoError(t, decodeStrict([]byte(decodeSeeds[1]), &req, eventKeys))
	require.NotNil(t, req.ExpectedRevision)
	assert.Equal(t, eventRequest{
		ID: "0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10", Type: "CourseCompleted", OccurredOn: "2024-03-01",
		Data: []byte(`{"course":"foundation_b"}`), ExpectedRevision: req.ExpectedRevision,
	}, req)
	assert.Equal(t, uint64(3), *req.ExpectedRevision)
}
