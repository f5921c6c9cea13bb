package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

// checkpointsDir is where a server keeps the checkpoints it takes, in its
// data directory.
const checkpointsDir = "checkpoints"

// runKey prints the ledger's public key: `ledger key show --data DIR`.
func runKey(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "show" {
		return usageError("key needs show")
	}
	fs := e.newFlags("key show")
	dir := fs.String("data", "./data", "data `directory`")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("key show takes no arguments")
	}
	key, err := checkpoint.LoadKey(*dir)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	// The key alone on stdout, so that `ledger key show > ledger.pub` works.
	_, err = e.stdout.Write(checkpoint.MarshalPublicKey(pub))
	fmt.Fprintf(e.stderr, "Key id %s. Keep this public key with your checkpoints, outside the system.\n", checkpoint.KeyID(pub))
	return err
}

// runCheckpoint writes a signed checkpoint: taken here when the store is
// free, by the running server (POST /v1/checkpoints) when it holds it.
func runCheckpoint(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("checkpoint")
	dir := fs.String("data", "./data", "data `directory`")
	out := fs.String("out", "", "write the checkpoint to `FILE` (default: stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("checkpoint takes no arguments")
	}
	if _, err := os.Stat(filepath.Join(*dir, eventsFile)); err != nil {
		return fmt.Errorf("no ledger in %s (no %s): %w", *dir, eventsFile, err)
	}
	var file []byte
	store, err := openBolt(*dir, 500*time.Millisecond)
	switch {
	case errors.Is(err, errServing):
		if file, err = checkpointOnline(ctx, *dir); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		defer store.Close()
		key, err := checkpoint.LoadOrCreateKey(*dir)
		if err != nil {
			return err
		}
		c, err := checkpoint.Take(ctx, store, key, time.Now())
		if err != nil {
			return err
		}
		file = c.Marshal()
	}
	c, err := checkpoint.Parse(file)
	if err != nil {
		return fmt.Errorf("the checkpoint received: %w", err)
	}
	if *out == "" {
		_, err = e.stdout.Write(file)
		return err
	}
	if err := checkpoint.WriteFile(*out, c); err != nil {
		return err
	}
	st := c.Statement
	fmt.Fprintf(e.stderr, "Checkpoint of %d streams, %d events (position %d), signed by %s, written to %s.\nKeep it outside the system; `ledger verify --data %s --against %s` checks the store still extends it.\n",
		st.Streams, st.Events, st.Position, st.KeyID, *out, *dir, *out)
	return nil
}

// checkpointOnline asks the server serving dir for a checkpoint, with an
// auditor token minted for the purpose and revoked afterwards.
func checkpointOnline(ctx context.Context, dir string) (_ []byte, err error) {
	info, tokens, name, token, err := reachServer(dir, "checkpoint", api.RoleAuditor)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := tokens.Revoke(name); err == nil {
			err = rerr
		}
	}()
	resp, err := callServer(ctx, http.MethodPost, info.URL+"/v1/checkpoints", token, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// callServer sends a bodiless request to a running server and returns a
// 2xx response, or the API's error as an error.
func callServer(ctx context.Context, method, url, token string, timeout time.Duration) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("the running server: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("the running server answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

// openAgainst reads the checkpoint in file and checks its signature with
// the public key in keyFile, or else with the data directory's key.
func openAgainst(dir, file, keyFile string) (*checkpoint.Checkpoint, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pub ed25519.PublicKey
	if keyFile != "" {
		kb, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, err
		}
		if pub, err = checkpoint.ParsePublicKey(kb); err != nil {
			return nil, fmt.Errorf("--key %s: %w", keyFile, err)
		}
	} else {
		key, err := checkpoint.LoadKey(dir)
		if err != nil {
			return nil, fmt.Errorf("%w (or name the public key with --key FILE)", err)
		}
		pub = key.Public().(ed25519.PublicKey)
	}
	c, err := checkpoint.Open(b, pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// verifyAgainst checks that the store src reads still extends checkpoint
// c, and says what differs.
func verifyAgainst(ctx context.Context, e *env, src source, c *checkpoint.Checkpoint) error {
	st := c.Statement
	rep, err := checkpoint.Against(ctx, src.reader(), c)
	if err != nil {
		return fmt.Errorf("verify stopped after %d events: %w", rep.EventsChecked, err)
	}
	if !rep.OK {
		fmt.Fprintf(e.stdout, "FAILED: the store does not extend the checkpoint of %s (%d streams, %d events, position %d). %d difference(s):\n",
			st.TakenAt.Format(time.RFC3339), st.Streams, st.Events, st.Position, rep.DifferencesFound)
		for _, d := range rep.Differences {
			fmt.Fprintf(e.stdout, "  %s\n", d)
		}
		if rep.DifferencesFound > len(rep.Differences) {
			fmt.Fprintf(e.stdout, "  … and %d more\n", rep.DifferencesFound-len(rep.Differences))
		}
		return &exitError{code: 1, msg: "the store does not extend the checkpoint"}
	}
	fmt.Fprintf(e.stdout, "OK: the store extends the checkpoint of %s signed by %s: all %d of its streams as signed, %d events checked (position %d), every hash chain verifies.\n",
		st.TakenAt.Format(time.RFC3339), st.KeyID, st.Streams, rep.EventsChecked, rep.Position)
	return nil
}

// keepCheckpoint writes c into dir's checkpoints folder and removes the
// oldest beyond keep (0: keep all).
func keepCheckpoint(dir string, c *checkpoint.Checkpoint, keep int) error {
	folder := filepath.Join(dir, checkpointsDir)
	if err := os.MkdirAll(folder, 0o700); err != nil {
		return err
	}
	name := "checkpoint-" + c.Statement.TakenAt.UTC().Format("20060102T150405.000000000Z") + ".json"
	if err := checkpoint.WriteFile(filepath.Join(folder, name), c); err != nil {
		return err
	}
	if keep <= 0 {
		return nil
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		return err
	}
	var names []string
	for _, en := range entries {
		if n := en.Name(); strings.HasPrefix(n, "checkpoint-") && strings.HasSuffix(n, ".json") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for len(names) > keep {
		// A checkpoint taken at the same moment (the API's, the timer's)
		// may have pruned it already.
		if err := os.Remove(filepath.Join(folder, names[0])); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		names = names[1:]
	}
	return nil
}
