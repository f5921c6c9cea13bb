package bolt

import (
	"io"

	bbolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the store's file to w, for a backup,
// while appends go on: bbolt's Tx.WriteTo inside one read transaction, so
// the copy holds every append acknowledged before WriteTo was called and
// none half-written. The copy is a complete bbolt file that Open accepts.
// It returns the bytes written; Size tells how many that will be.
func (s *Store) WriteTo(w io.Writer) (n int64, err error) {
	err = s.Backup(func(_ int64, write func(io.Writer) (int64, error)) error {
		n, err = write(w)
		return err
	})
	return n, err
}

// Backup calls fn with the size of a consistent copy of the store's file
// and a function that writes that copy, both from one read transaction, so
// that a caller can announce the size (an HTTP Content-Length, a tar
// header) before the bytes.
func (s *Store) Backup(fn func(size int64, write func(io.Writer) (int64, error)) error) error {
	return guard("copying the file", func() error {
		return dbErr(s.db.View(func(tx *bbolt.Tx) error {
			return fn(tx.Size(), tx.WriteTo)
		}))
	})
}
