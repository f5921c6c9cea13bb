package domain

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathValues are JSON values of every shape, and strings of the shapes the
// event fields parse (dates, ids, enum-like words).
var pathValues = []string{
	`"x"`, `""`, `1`, `0`, `-1`, `1.5`, `1e3`, `true`, `false`, `null`, `{}`, `[]`,
	`{"a":1}`, `["x"]`, `[1,2]`, `"2024-01-01"`, `"2024-13-45"`,
	`"00000000-0000-0000-0000-000000000000"`, `"3f1c9a2b-1111-4222-8333-944455556666"`,
	`"linked_cpd"`, `"health"`, `"foundation_a"`, `18446744073709551616`,
}

// decodeBothWays decodes data for t by json.Unmarshal and by a strict
// json.Decoder, and fails t if they differ: in the event, or in the error.
func decodeBothWays(t *testing.T, ti *TypeInfo, data string) {
	t.Helper()
	if checkKeys(ti, []byte(data)) != nil || !flatPath(ti, []byte(data)) {
		return // DecodeNew stops before decoding, or decodes strictly
	}
	flat, ferr := decodeChecked(ti, []byte(data), true)
	strict, serr := decodeChecked(ti, []byte(data), false)
	if serr != nil || ferr != nil {
		require.Error(t, ferr, "%s %s: the strict decoder refused (%v), json.Unmarshal did not", ti.Type, data, serr)
		require.Error(t, serr, "%s %s: json.Unmarshal refused (%v), the strict decoder did not", ti.Type, data, ferr)
		assert.Equal(t, serr.Error(), ferr.Error(), "%s %s", ti.Type, data)
		assert.Equal(t, decodeError(ti, []byte(data), serr).Error(), decodeError(ti, []byte(data), ferr).Error())
		return
	}
	assert.True(t, reflect.DeepEqual(strict, flat), "%s %s: %#v != %#v", ti.Type, data, flat, strict)
}

// TestDecodeCheckedPathsAgree: for every flat event type, json.Unmarshal
// (DecodeNew's path for them) gives what the strict json.Decoder gives,
// for every field holding a value of every shape, alone and all together.
func TestDecodeCheckedPathsAgree(t *testing.T) {
	flats := 0
	for _, name := range sortedTypes() {
		ti := registry[name]
		if !ti.flat {
			continue
		}
		flats++
		keys := sortedKeys(ti.keys)
		decodeBothWays(t, ti, `{}`)
		for _, k := range keys {
			for _, v := range pathValues {
				decodeBothWays(t, ti, fmt.Sprintf(`{%q:%s}`, k, v))
			}
		}
		for _, v := range pathValues {
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf(`%q:%s`, k, v)
			}
			decodeBothWays(t, ti, "{"+strings.Join(parts, ",")+"}")
		}
	}
	assert.Greater(t, flats, 20, "most event types are flat")
}

// TestFlatTypes: a type holding an object of its own is not flat (the
// decisions' evaluation), and json.Unmarshal is never used for it.
func TestFlatTypes(t *testing.T) {
	assert.False(t, registry["LicenceGranted"].flat, "a decision holds its evaluation, an object")
	assert.True(t, registry["CPDEngagementRecorded"].flat)
	type inner struct{ A int }
	assert.False(t, objectFree(reflect.TypeFor[struct{ I inner }](), true))
	assert.False(t, objectFree(reflect.TypeFor[struct{ I []inner }](), true))
	assert.False(t, objectFree(reflect.TypeFor[struct{ M map[string]int }](), true))
	assert.False(t, objectFree(reflect.TypeFor[struct{ X any }](), true))
	assert.True(t, objectFree(reflect.TypeFor[struct {
		D Date
		P *string
		S []uint16
	}](), true))
}

// FuzzDecodeCheckedPaths: the two paths agree on any body a flat type's
// keys accept.
func FuzzDecodeCheckedPaths(f *testing.F) {
	f.Add(uint8(3), `{"kind":"linked_cpd","hours":1,"title":"Benchmark session"}`)
	f.Add(uint8(8), `{"course":"awareness"}`)
	f.Add(uint8(3), `{"hours":"1"}`)
	f.Add(uint8(3), `{"hours":1.5,"kind":null}`)
	names := sortedTypes()
	f.Fuzz(func(t *testing.T, i uint8, data string) {
		ti := registry[names[int(i)%len(names)]]
		if !ti.flat {
			return
		}
		decodeBothWays(t, ti, data)
	})
}
