//go:build !unix

package bolt

import "os"

// releaseFile closes f; see unlock_unix.go.
func releaseFile(f *os.File) { _ = f.Close() }
