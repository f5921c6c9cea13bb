package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// runErase erases a practitioner's personal data (crypto-shredding), as
// POST /v1/practitioners/{id}/erasure does: the key their name and email
// were sealed with is deleted, PersonalDataErased is recorded with the
// reason, and the read models' snapshot is rewritten without the name.
// With the store free it does so here; while a server runs on the data
// directory it asks that server, whose key store and read models must
// take the erasure themselves.
func runErase(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("erase")
	sf := addStoreFlags(fs)
	practitioner := fs.String("practitioner", "", "the practitioner's `ID`")
	reason := fs.String("reason", "", "why the personal data is erased (`TEXT`, no personal identifiers)")
	by := fs.String("recorded-by", "erase", "principal `name` recorded on the erasure event (offline only)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("erase takes no arguments")
	}
	if err := sf.check(); err != nil {
		return err
	}
	id, err := uuid.Parse(*practitioner)
	if *practitioner == "" {
		return usageError("--practitioner ID is required")
	}
	if err != nil || id.String() != *practitioner {
		return usageError("--practitioner %q is not a practitioner id (a UUID)", *practitioner)
	}
	var store eventstore.Store
	if sf.store == storeKurrentDB {
		if _, err := os.Stat(filepath.Join(sf.data, serverFile)); err == nil {
			return eraseOnline(ctx, e, sf.data, id, *reason)
		}
		if store, err = openKurrentDB(ctx, sf.kurrentdb); err != nil {
			return err
		}
	} else {
		if _, err := os.Stat(filepath.Join(sf.data, eventsFile)); err != nil {
			return fmt.Errorf("no ledger in %s (no %s): %w", sf.data, eventsFile, err)
		}
		s, err := openBolt(sf.data, 500*time.Millisecond)
		if errors.Is(err, errServing) {
			return eraseOnline(ctx, e, sf.data, id, *reason)
		}
		if err != nil {
			return err
		}
		store = s
	}
	defer store.Close()
	keys, err := keystore.Open(sf.data)
	if err != nil {
		return err
	}
	defer keys.Close()
	views := projections.NewViewsWithKeys(store, keys)
	rec := record.NewRecorder(store, views, time.Now)
	rec.UseKeys(keys)
	out, err := rec.Erase(ctx, api.Principal{Name: *by, Role: api.RoleAdmin}, projections.PractitionerStream(id), *reason)
	var de *domain.Error
	if errors.As(err, &de) {
		return errors.New(de.Error())
	}
	if err != nil {
		return err
	}
	if err := refreshSnapshot(ctx, store, keys, sf.data, out.Position); err != nil {
		return fmt.Errorf("the erasure is recorded (event %s), but the read models' snapshot still holds the name: %w; run `ledger rebuild --data %s`", out.EventID, err, sf.data)
	}
	return reportErasure(e, out)
}

// refreshSnapshot brings the read models' snapshot in dir up to pos, so
// that it no longer holds the erased name. Without a snapshot there is
// nothing to rewrite.
func refreshSnapshot(ctx context.Context, store eventstore.Store, keys *keystore.Keys, dir string, pos eventstore.Position) error {
	path := filepath.Join(dir, snapshotFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	proj, err := projections.New(store, projections.Options{
		SnapshotPath: path, Keys: keys,
		Today: func() domain.Date { return domain.DateOf(time.Now().UTC()) },
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- proj.Run(runCtx) }()
	werr := proj.WaitFor(ctx, pos)
	cancel()
	if rerr := <-done; werr == nil && !errors.Is(rerr, context.Canceled) {
		werr = rerr
	}
	if werr != nil {
		return werr
	}
	return proj.Snapshot()
}

// reportErasure prints the erasure event on stdout and, when events stored
// before sealing still hold the data in plaintext, says so on stderr.
func reportErasure(e *env, out record.Erasure) error {
	fmt.Fprintf(e.stdout, "Erased the personal data of %s: the key is deleted and PersonalDataErased is recorded (event %s, revision %d).\n", out.Stream, out.EventID, out.Revision)
	if out.Warning != "" {
		fmt.Fprintf(e.stderr, "Warning: %s.\nEvents still holding it in plaintext:\n", out.Warning)
		for _, id := range out.PlaintextEvents {
			fmt.Fprintf(e.stderr, "  %s\n", id)
		}
	}
	return nil
}

// eraseOnline asks the server running on dir to erase, with an admin token
// minted for the purpose and revoked afterwards.
func eraseOnline(ctx context.Context, e *env, dir string, id uuid.UUID, reason string) (err error) {
	info, tokens, name, token, err := reachServer(dir, "erase", api.RoleAdmin)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := tokens.Revoke(name); err == nil {
			err = rerr
		}
	}()
	body, err := json.Marshal(map[string]string{"reason": reason})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, info.URL+"/v1/practitioners/"+id.String()+"/erasure", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("the running server at %s: %w", info.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		var ae struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(b, &ae) == nil && ae.Error.Message != "" {
			return errors.New(ae.Error.Message)
		}
		return fmt.Errorf("the running server answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	var out record.Erasure
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Erased through the server running at %s.\n", info.URL)
	return reportErasure(e, out)
}
