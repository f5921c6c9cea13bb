//go:build !unix

package keystore

import "os"

// lockFile does nothing where flock is missing: one process per key file.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
