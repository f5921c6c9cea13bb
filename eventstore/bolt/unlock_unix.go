//go:build unix

package bolt

import (
	"os"
	"syscall"
)

// releaseFile drops the lock bbolt took on f and closes it. Closing alone is
// not enough after bbolt panicked half-way through opening: its memory map
// of the file still references the open file, and the lock with it.
func releaseFile(f *os.File) {
	if fd := f.Fd(); fd != ^uintptr(0) {
		_ = syscall.Flock(int(fd), syscall.LOCK_UN)
	}
	_ = f.Close() // an error if bbolt closed it already
}
