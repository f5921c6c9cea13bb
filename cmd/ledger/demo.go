package main

import (
	"bytes"
	"context"
	_ "embed"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// demoCSV is a small, entirely fictional data set in the import format:
// an organisation and a few adult practitioners with invented names.
//
//go:embed demo.csv
var demoCSV []byte

// demoPractitioner is the demo's most complete practitioner, named in the
// welcome text.
const demoPractitioner = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01"

// loadDemo imports the demo data set into an empty store and returns how
// many events it stored; a store that holds anything is left alone, so the
// demo loads on first start only.
func loadDemo(ctx context.Context, store eventstore.Store, keys *keystore.Keys, now func() time.Time) (int, error) {
	for _, err := range store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return 0, err
		}
		return 0, nil // not empty
	}
	// A bar with its total: one of unknown total (-1) spins from a
	// goroutine of its own, which races with the commit's Set.
	quiet := func(total int, _ string) *progressbar.ProgressBar {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(io.Discard))
	}
	return importCSV(ctx, store, keys, bytes.NewReader(demoCSV), api.Principal{Name: "demo", Role: api.RoleAdmin}, now, io.Discard, quiet)
}
