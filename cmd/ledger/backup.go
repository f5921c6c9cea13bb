package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/eventstore/backup"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// runBackup writes a backup of a data directory: `ledger backup --data DIR
// --to FILE`. The store's copy is bbolt's transactional copy, taken here
// when the store is free and by the running server (GET /v1/admin/backup)
// when it holds the file.
func runBackup(ctx context.Context, e *env, args []string) (err error) {
	fs := e.newFlags("backup")
	dir := fs.String("data", "./data", "data `directory`")
	to := fs.String("to", "", "the backup `FILE` to write (a .tar.gz)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("backup takes no arguments")
	}
	if *to == "" {
		return usageError("backup needs --to FILE")
	}
	if _, err := os.Stat(filepath.Join(*dir, eventsFile)); err != nil {
		return fmt.Errorf("no ledger in %s (no %s): %w", *dir, eventsFile, err)
	}
	if inside(*dir, *to) {
		return usageError("--to %s is inside the data directory %s: keep backups elsewhere", *to, *dir)
	}
	var copyStore backup.CopyStore
	store, err := openBolt(*dir, 500*time.Millisecond)
	switch {
	case errors.Is(err, errServing):
		info, tokens, name, token, err := reachServer(*dir, "backup", api.RoleAdmin)
		if err != nil {
			return err
		}
		revoked := false
		revoke := func() error {
			if revoked {
				return nil
			}
			revoked = true
			return tokens.Revoke(name)
		}
		defer func() {
			if rerr := revoke(); err == nil {
				err = rerr
			}
		}()
		// The token is revoked as soon as the store's copy is in, before
		// tokens.json is read: the backup holds no live token of its own.
		copyStore = func(fn func(int64, func(io.Writer) (int64, error)) error) error {
			if err := copyFromServer(ctx, info.URL, token, fn); err != nil {
				return err
			}
			return revoke()
		}
	case err != nil:
		return err
	default:
		defer store.Close()
		copyStore = store.Backup
	}

	tmp, err := os.CreateTemp(filepath.Dir(*to), "."+filepath.Base(*to)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	m, err := backup.Write(tmp, *dir, copyStore, time.Now())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *to); err != nil {
		return err
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Path)
	}
	fmt.Fprintf(e.stderr, "Backed up %s to %s: %s.\nIt holds the signing key and the personal-data keys: keep it safe, and rotate backups (see README).\n",
		*dir, *to, strings.Join(names, ", "))
	return nil
}

// copyFromServer asks the running server for its store's copy and hands
// fn its size and its bytes.
func copyFromServer(ctx context.Context, base, token string, fn func(int64, func(io.Writer) (int64, error)) error) error {
	resp, err := callServer(ctx, http.MethodGet, base+"/v1/admin/backup", token, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.ContentLength < 0 {
		return errors.New("the running server did not say how large the store's copy is")
	}
	return fn(resp.ContentLength, func(w io.Writer) (int64, error) {
		n, err := io.Copy(w, resp.Body)
		if err == nil && n != resp.ContentLength {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	})
}

// inside reports whether file lies in directory dir.
func inside(dir, file string) bool {
	d, err1 := filepath.Abs(dir)
	f, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// runRestore restores a backup into an empty or new data directory,
// verifying the copy's hash chains first: `ledger restore --from FILE
// --data DIR`.
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("restore")
	dir := fs.String("data", "", "the empty or new data `directory` to restore into")
	from := fs.String("from", "", "the backup `FILE` (from ledger backup)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("restore takes no arguments")
	}
	if *dir == "" || *from == "" {
		return usageError("restore needs --from FILE and --data DIR")
	}
	f, err := os.Open(*from)
	if err != nil {
		return err
	}
	defer f.Close()
	m, rep, err := backup.Restore(ctx, f, *dir, checkRestored)
	if err != nil {
		return fmt.Errorf("nothing restored: %w", err)
	}
	fmt.Fprintf(e.stdout, "Restored the backup of %s into %s: %d events, every hash chain verifies; %d files.\n",
		m.CreatedAt.Format(time.RFC3339), *dir, rep.EventsChecked, len(m.Files))
	fmt.Fprintf(e.stdout, "Check it against your latest checkpoint: ledger verify --data %s --against FILE\n", *dir)
	return nil
}

// checkRestored checks the files beside the store in an unpacked backup:
// the tokens, the signing key and the personal-data key store must be
// readable if present.
func checkRestored(dir string) error {
	if err := auth.Open(dir).Check(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, checkpoint.KeyFile)); err == nil {
		if _, err := checkpoint.LoadKey(dir); err != nil {
			return err
		}
	}
	keys, err := keystore.Open(dir)
	if err != nil {
		return err
	}
	return keys.Close()
}
