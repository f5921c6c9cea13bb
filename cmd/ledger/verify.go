package main

import (
	"context"
	"fmt"
)

func runVerify(ctx context.Context, e *env, args []string) (err error) {
	fs := e.newFlags("verify")
	sf := addStoreFlags(fs)
	against := fs.String("against", "", "prove the store still extends the checkpoint in `FILE`")
	keyFile := fs.String("key", "", "with --against: the ledger's public key, as `ledger key show` printed it (default: the data directory's key)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("verify takes no arguments")
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *keyFile != "" && *against == "" {
		return usageError("--key is only used with --against")
	}
	src, err := sf.openSource(ctx, "verify")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := src.close(); err == nil {
			err = cerr
		}
	}()
	if *against != "" {
		return verifyAgainst(ctx, e, src, sf.data, *against, *keyFile)
	}
	rep, err := src.verify(ctx)
	if err != nil {
		return fmt.Errorf("verify stopped after %d events: %w", rep.EventsChecked, err)
	}
	if !rep.OK {
		f := rep.FirstFailure
		fmt.Fprintf(e.stdout, "FAILED after %d good events.\nFirst bad event: %s in %s at revision %d (position %d)\nReason: %s\n",
			rep.EventsChecked, f.EventID, f.Stream, f.Revision, f.Position, f.Reason)
		return &exitError{code: 1, msg: "a hash chain does not verify"}
	}
	fmt.Fprintf(e.stdout, "OK: %d events, every hash chain verifies.\n", rep.EventsChecked)
	return nil
}
