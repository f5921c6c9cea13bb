package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

func runExport(ctx context.Context, e *env, args []string) (err error) {
	fs := e.newFlags("export")
	sf := addStoreFlags(fs)
	out := fs.String("out", "", "write to `FILE` instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("export takes no arguments")
	}
	if err := sf.check(); err != nil {
		return err
	}
	src, err := sf.openSource(ctx, "export")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := src.close(); err == nil {
			err = cerr
		}
	}()
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n, sealed := 0, 0
	if err := src.events(ctx, func(x export.Event) error {
		n++
		if keystore.IsSealed(x.Data) {
			sealed++
		}
		return enc.Encode(x)
	}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Exported %d events.\n", n)
	if sealed > 0 {
		// The export is history byte for byte, so the hashes verify.
		fmt.Fprintf(e.stderr, "%d of them hold a practitioner's name and email sealed, as stored: the keys (%s) are not exported, so a ledger imported from this file without them reads those names as %s.\n",
			sealed, keystore.FileName, domain.UnavailableName)
	}
	return nil
}
