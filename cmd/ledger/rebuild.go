package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/client"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// rebuildPoll is how often `ledger rebuild` asks a running server how far
// its rebuild has got.
const rebuildPoll = 200 * time.Millisecond

// runRebuild rebuilds the read models from the whole store. With the store
// free it rebuilds them here and writes the snapshot the next serve starts
// from; while a server holds the store it asks that server for an online
// rebuild (built beside the served models, swapped in whole) and follows
// its progress.
func runRebuild(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("rebuild")
	dir := fs.String("data", "./data", "data `directory`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("rebuild takes no arguments")
	}
	if _, err := os.Stat(filepath.Join(*dir, eventsFile)); err != nil {
		return fmt.Errorf("no ledger in %s (no %s): %w", *dir, eventsFile, err)
	}
	store, err := openBolt(*dir, 500*time.Millisecond)
	if errors.Is(err, errServing) {
		return rebuildOnline(ctx, e, *dir)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := keystore.Open(*dir)
	if err != nil {
		return err
	}
	defer keys.Close()
	proj, err := projections.New(store, projections.Options{
		SnapshotPath: filepath.Join(*dir, snapshotFile),
		Keys:         keys,
		Today:        func() domain.Date { return domain.DateOf(time.Now().UTC()) },
	})
	if err != nil {
		return err
	}
	bar := newRebuildBar(e.stderr)
	if err := proj.Rebuild(ctx, bar.update); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	bar.finish()
	fmt.Fprintf(e.stdout, "Rebuilt the read models from %d events; the snapshot the next serve starts from is written.\n", bar.total)
	return nil
}

// rebuildBar draws a rebuild's progress: a line while events are read (the
// total is not known yet), then a bar while they are folded. (progressbar's
// spinner for an unknown total renders from a goroutine of its own, which
// races with Finish; a line is enough for the read.)
type rebuildBar struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	total uint64
}

func newRebuildBar(w io.Writer) *rebuildBar {
	fmt.Fprintln(w, "Reading every event of the store…")
	return &rebuildBar{w: w}
}

func (b *rebuildBar) update(done, total uint64) {
	if total == 0 {
		return
	}
	if b.bar == nil {
		b.total = total
		b.bar = progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription("folding"), progressbar.OptionShowCount())
	}
	_ = b.bar.Set64(int64(done))
}

func (b *rebuildBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
	fmt.Fprintln(b.w)
}

// rebuildOnline asks the server serving dir to rebuild, with an admin token
// minted for the purpose and revoked afterwards, and follows it to the end.
func rebuildOnline(ctx context.Context, e *env, dir string) (err error) {
	info, tokens, name, token, err := reachServer(dir, "rebuild", api.RoleAdmin)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := tokens.Revoke(name); err == nil {
			err = rerr
		}
	}()
	c := client.New(info.URL, token, &http.Client{Timeout: time.Minute})
	_, err = c.StartRebuild(ctx)
	var refused *client.Error
	switch {
	case errors.As(err, &refused) && refused.StatusCode == http.StatusConflict:
		fmt.Fprintln(e.stderr, "A rebuild is already running on the server; following it.")
	case errors.As(err, &refused):
		return fmt.Errorf("the running server refused the rebuild (%d %s)", refused.StatusCode, http.StatusText(refused.StatusCode))
	case err != nil:
		return err
	default:
		fmt.Fprintf(e.stderr, "The server at %s is rebuilding its read models beside the served ones.\n", info.URL)
	}
	bar := newRebuildBar(e.stderr)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rebuildPoll):
		}
		st, err := c.Rebuild(ctx)
		if err != nil {
			return err
		}
		bar.update(st.EventsDone, st.EventsTotal)
		switch st.State {
		case "running":
			continue
		case "done":
			bar.finish()
			fmt.Fprintf(e.stdout, "Rebuilt the read models from %d events and swapped them in; the server served throughout.\n", st.EventsTotal)
			return nil
		default:
			bar.finish()
			return fmt.Errorf("the server's rebuild %s: %s", st.State, st.Error)
		}
	}
}
