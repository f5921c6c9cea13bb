package api

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// decodeStrict's walk over valid JSON must answer exactly as the
// token-by-token reading it replaces: the same error, or the same value.
func FuzzDecodeStrictWalk(f *testing.F) {
	for _, s := range []string{
		`{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1}}`,
		` {"id":"0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10", "type" : "X", "expected_revision": 3 } `,
		`{"type":"a","type":"b"}`,
		`{"Type":"a"}`,
		`{"t\u0079pe":"a","data":{"x":[1,{"y":"}"}],"z":"\""}}`,
		`{"data":[1,2,{"a":{}}],"occurred_on":null}`,
		`{"nope":1}`,
		`{"type":1}`,
		`{}`,
		"{\"\xff\":1}",
		"{\"data\":{\"title\":\"caf\xc3\"}}",
		`{"type":"\ud800"}`,
		`{"data":{"a":["\ud83d\ude00","\udc00"]}}`,
		`{"type":"a"} {"type":"b"}`,
		`{"type":"a",}`,
		`{"data":{"a":1},"expected_revision":-1}`,
		`{"data":"\u00e9t\u00e9","id":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		var fast, slow eventRequest
		errFast := decodeStrict(body, &fast, eventKeys)
		errSlow := decodeTokens(trimmed, &slow, eventKeys)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Fatalf("%q: walk says %v, tokens say %v", body, errFast, errSlow)
		}
		if errFast == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: walk gives %+v, tokens give %+v", body, fast, slow)
		}
	})
}
