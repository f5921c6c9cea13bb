// Package keystoretest helps tests prove an erasure: it searches the raw
// bytes of every file of a data directory. It imports testing and is for
// tests only.
package keystoretest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FilesHolding returns the names of the files under dir whose raw bytes
// hold s, in walk order; none: nil. It fails t on an error reading them.
func FilesHolding(t testing.TB, dir, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("search %s: %v", dir, err)
	}
	return out
}
