package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReplay(t *testing.T) {
	dir := demoDir(t)
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"today", []string{"--practitioner", demoPractitioner}, 0, []string{"Alex Example", "Timeline", "CourseCompleted", "Standing:", "Level"}},
		{"as of a past date", []string{"--practitioner", "practitioner-" + demoPractitioner, "--as-of", demoDate(t, "2024-02-10")}, 0, []string{"as of " + demoDate(t, "2024-02-10"), "[after as-of]"}},
		{"bad as-of", []string{"--practitioner", demoPractitioner, "--as-of", "soon"}, 2, nil},
		{"bad known-at", []string{"--practitioner", demoPractitioner, "--known-at", "yesterday"}, 2, nil},
		// Issue 16 item 10: the zero time was read as "now".
		{"known at the zero time: nothing known yet", []string{"--practitioner", demoPractitioner, "--known-at", "0001-01-01T00:00:00Z"}, 1, nil},
		{"unknown practitioner", []string{"--practitioner", "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4eff"}, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := run(t, append([]string{"replay", "--data", dir}, tc.args...)...)
			assert.Equal(t, tc.code, code, errb)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
	t.Run("while the server runs", func(t *testing.T) {
		serve(t, dir, false)
		code, out, errb := run(t, "replay", "--data", dir, "--practitioner", demoPractitioner, "--as-of", demoDate(t, "2025-01-01"))
		assert.Equal(t, 0, code, errb)
		assert.Contains(t, out, "Alex Example")
		assert.Contains(t, out, "Timeline")
	})
}
