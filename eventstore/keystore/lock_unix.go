//go:build unix

package keystore

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, so that two processes
// sharing one key file (servers on one KurrentDB) never interleave an
// append with a rewrite.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

// unlockFile releases lockFile's lock.
func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
