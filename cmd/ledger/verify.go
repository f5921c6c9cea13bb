package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore/checkpoint"
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
	var c *checkpoint.Checkpoint
	if *against != "" {
		// The checkpoint first: an edited file or a foreign key is refused
		// before the store is read.
		if c, err = openAgainst(sf.data, *against, *keyFile); err != nil {
			return err
		}
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
	if err := verifyChains(ctx, e, src); err != nil || c == nil {
		return err
	}
	return verifyAgainst(ctx, e, src, c)
}

// verifyChains runs the store's own check: every hash chain, and the
// store's account of what it holds.
func verifyChains(ctx context.Context, e *env, src source) error {
	rep, err := src.verify(ctx)
	if err != nil {
		return fmt.Errorf("verify stopped after %d events: %w", rep.EventsChecked, err)
	}
	if !rep.OK {
		f := rep.FirstFailure
		if f.EventID == uuid.Nil {
			// Not an event that fails its chain: the store's own account of
			// what it holds disagrees with the events it holds.
			where := fmt.Sprintf("at position %d", f.Position)
			if f.Stream != "" {
				where = fmt.Sprintf("in %s at revision %d", f.Stream, f.Revision)
			}
			fmt.Fprintf(e.stdout, "FAILED after %d good events.\nThe store is damaged %s.\nReason: %s\n", rep.EventsChecked, where, f.Reason)
			return &exitError{code: 1, msg: "the store is damaged: events are missing"}
		}
		fmt.Fprintf(e.stdout, "FAILED after %d good events.\nFirst bad event: %s in %s at revision %d (position %d)\nReason: %s\n",
			rep.EventsChecked, f.EventID, f.Stream, f.Revision, f.Position, f.Reason)
		return &exitError{code: 1, msg: "a hash chain does not verify"}
	}
	fmt.Fprintf(e.stdout, "OK: %d events, every hash chain verifies.\n", rep.EventsChecked)
	return nil
}
