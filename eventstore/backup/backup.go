// Package backup writes and restores a backup of a ledger's data
// directory while the ledger serves: one gzip-compressed tar holding a
// consistent copy of the embedded store's file (bbolt's transactional copy,
// taken by whoever holds the file), then every other file of the directory
// that a restored ledger needs (tokens, the checkpoint signing key, the
// personal-data key store, kept checkpoints), then a manifest of every
// file's size and SHA-256. Restore checks the manifest and every hash
// chain of the copy before anything is put in place, and only into an
// empty or new directory.
//
// It must not import domain, projections or api.
//
// # Caveats
//
//   - The store's copy is taken first and the other files after it, so
//     that every key of an event in the copy is in the key store's copy
//     (keys are written before the events sealed with them). A key erased
//     between the two is missing from the copy while its
//     PersonalDataErased event is not yet in it: the person then reads as
//     unavailable rather than erased until the erasure is made again.
//   - A backup of the key store can bring erased personal data back:
//     rotate backups, and never restore one older than an erasure
//     without erasing again.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
)

// Format names this version of the bundle.
const Format = "imatter-ledger/backup/v1"

// StoreFile is the embedded store's file in a data directory and in a
// backup; manifestName is the manifest's entry, always the last.
const (
	StoreFile    = "events.db"
	manifestName = "MANIFEST.json"
)

// skipped are the files of a data directory a backup leaves out: the read
// models' snapshot (rebuilt from the store), the address of a running
// server, and lock files. Temporary files (a name starting with "." or
// holding ".tmp") are left out too.
var skipped = []string{"projections.snapshot", "server.json"}

// include reports whether a file of the data directory (its path relative
// to it, slash-separated) belongs in a backup.
func include(rel string) bool {
	base := path.Base(rel)
	switch {
	case rel == StoreFile, slices.Contains(skipped, rel), rel == manifestName:
		return false
	case strings.HasPrefix(base, "."), strings.Contains(base, ".tmp"), strings.HasSuffix(base, ".lock"):
		return false
	}
	return true
}

// Manifest lists a backup's files.
type Manifest struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	Files     []File    `json:"files"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// CopyStore writes a consistent copy of the store's file: it calls fn
// once with the copy's size and a function that writes exactly that many
// bytes. (*bolt.Store).Backup is one; so is a running server's
// GET /v1/admin/backup.
type CopyStore func(fn func(size int64, write func(io.Writer) (int64, error)) error) error

// Write writes a backup of data directory dir to w: the store's copy
// first, then every other file of dir that include admits, then the
// manifest. It returns the manifest.
func Write(w io.Writer, dir string, store CopyStore, now time.Time) (Manifest, error) {
	m := Manifest{Format: Format, CreatedAt: now.UTC()}
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return m, err
	}
	tw := tar.NewWriter(gz)
	add := func(name string, size int64, write func(io.Writer) (int64, error)) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		h := sha256.New()
		n, err := write(io.MultiWriter(tw, h))
		if err != nil {
			return fmt.Errorf("backup: copying %s: %w", name, err)
		}
		if n != size {
			return fmt.Errorf("backup: %s: %d bytes where %d were announced", name, n, size)
		}
		m.Files = append(m.Files, File{Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	if err := store(func(size int64, write func(io.Writer) (int64, error)) error {
		return add(StoreFile, size, write)
	}); err != nil {
		return m, fmt.Errorf("backup: the store's copy: %w", err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !include(rel) {
			return nil
		}
		// Read whole, then write: a file appended to meanwhile (the key
		// store) cannot then outgrow its header.
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the walk listed it (an old checkpoint)
		}
		if err != nil {
			return err
		}
		return add(rel, int64(len(b)), bytes.NewReader(b).WriteTo)
	})
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Size: int64(len(mb)), Mode: 0o600, ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return m, err
	}
	if _, err := tw.Write(mb); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	return m, gz.Close()
}

// ErrNotEmpty is returned when Restore is asked to restore into a
// directory that holds anything.
var ErrNotEmpty = errors.New("backup: the target directory is not empty")

// ErrDamaged is returned when a backup file is not a whole, unaltered
// backup: unreadable, truncated, a file whose hash differs from the
// manifest's, or a store whose hash chains do not verify.
var ErrDamaged = errors.New("backup: the backup is damaged")

// Restore restores the backup read from r into dir, which must not exist
// or be empty. It unpacks into a new directory beside dir, checks every
// file against the manifest, opens the store copy and verifies every hash
// chain, runs check (if not nil) on the unpacked directory, and only then
// moves the files into dir. On any failure dir is left as it was (not
// created if it did not exist) and nothing is left beside it.
func Restore(ctx context.Context, r io.Reader, dir string, check func(dir string) error) (Manifest, eventstore.VerifyReport, error) {
	var m Manifest
	var rep eventstore.VerifyReport
	dir = filepath.Clean(dir)
	exists, err := emptyOrMissing(dir)
	if err != nil {
		return m, rep, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return m, rep, err
	}
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return m, rep, err
	}
	defer os.RemoveAll(staging)
	if m, err = unpack(r, staging); err != nil {
		return m, rep, err
	}
	if rep, err = verifyStore(ctx, filepath.Join(staging, StoreFile)); err != nil {
		return m, rep, err
	}
	if check != nil {
		if err := check(staging); err != nil {
			return m, rep, fmt.Errorf("%w: %w", ErrDamaged, err)
		}
	}
	if !exists {
		if err := os.Rename(staging, dir); err != nil {
			return m, rep, err
		}
		return m, rep, syncDir(parent)
	}
	// dir exists and is empty: move the entries in (checked empty again,
	// just before).
	if _, err := emptyOrMissing(dir); err != nil {
		return m, rep, err
	}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return m, rep, err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(staging, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return m, rep, err
		}
	}
	return m, rep, syncDir(dir)
}

// emptyOrMissing reports whether dir exists, and refuses one that is not
// an empty directory.
func emptyOrMissing(dir string) (exists bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("backup: the target %s: %w", dir, err)
	case len(entries) > 0:
		return true, fmt.Errorf("%w: %s holds %s; restore into an empty or new directory", ErrNotEmpty, dir, entries[0].Name())
	}
	return true, nil
}

// unpack extracts the backup r into the empty directory dir and checks it
// against its manifest.
func unpack(r io.Reader, dir string) (Manifest, error) {
	var m Manifest
	damaged := func(format string, args ...any) (Manifest, error) {
		return m, fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return damaged("not a ledger backup (%v)", err)
	}
	tr := tar.NewReader(gz)
	got := map[string]File{}
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return damaged("%v", err)
		}
		name := hdr.Name
		if hdr.Typeflag != tar.TypeReg || name != path.Clean(name) || path.IsAbs(name) || strings.HasPrefix(name, "../") || name == ".." || strings.Contains(name, `\`) {
			return damaged("unexpected entry %q", name)
		}
		if manifest != nil {
			return damaged("an entry after the manifest")
		}
		if name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return damaged("%v", err)
			}
			continue
		}
		if _, dup := got[name]; dup {
			return damaged("%s twice", name)
		}
		f, err := writeFile(filepath.Join(dir, filepath.FromSlash(name)), tr)
		if err != nil {
			if errors.Is(err, ErrDamaged) {
				return m, err
			}
			return m, fmt.Errorf("backup: unpacking %s: %w", name, err)
		}
		f.Path = name
		got[name] = f
	}
	// Reading to the end checks gzip's CRC and length.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return damaged("%v", err)
	}
	if manifest == nil {
		return damaged("no manifest: the file is cut short")
	}
	if err := json.Unmarshal(manifest, &m); err != nil || m.Format != Format {
		return damaged("the manifest is not a %s manifest", Format)
	}
	if len(m.Files) != len(got) {
		return damaged("%d files where the manifest lists %d", len(got), len(m.Files))
	}
	for _, want := range m.Files {
		if have, ok := got[want.Path]; !ok || have != want {
			return damaged("%s does not match the manifest", want.Path)
		}
	}
	if _, ok := got[StoreFile]; !ok {
		return damaged("no %s", StoreFile)
	}
	return m, nil
}

// writeFile writes r to p (mode 0600, creating its directory), synced, and
// returns its size and hash.
func writeFile(p string, r io.Reader) (File, error) {
	var f File
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return f, err
	}
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return f, err
	}
	var h hash.Hash = sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), r)
	if err != nil {
		out.Close()
		return f, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return f, err
	}
	if err := out.Close(); err != nil {
		return f, err
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// verifyStore opens the unpacked store and verifies every hash chain.
func verifyStore(ctx context.Context, p string) (eventstore.VerifyReport, error) {
	s, err := bolt.Open(p, bolt.Options{LockTimeout: time.Second})
	if err != nil {
		return eventstore.VerifyReport{}, fmt.Errorf("%w: the store copy does not open: %w", ErrDamaged, err)
	}
	defer s.Close()
	rep, err := eventstore.Verify(ctx, s)
	if err != nil {
		return rep, fmt.Errorf("%w: the store copy cannot be read after %d events: %w", ErrDamaged, rep.EventsChecked, err)
	}
	if !rep.OK {
		f := rep.FirstFailure
		return rep, fmt.Errorf("%w: a hash chain of the store copy does not verify: %s at revision %d (event %s): %s", ErrDamaged, f.Stream, f.Revision, f.EventID, f.Reason)
	}
	return rep, nil
}

// syncDir fsyncs a directory, so that renames into it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
