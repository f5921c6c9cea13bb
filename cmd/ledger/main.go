// Command ledger runs and administers the I Matter certification ledger.
//
// Usage:
//
//	ledger serve   [--data DIR] [--addr ADDR] [--store bolt|kurrentdb] [--kurrentdb URL] [--demo]
//	ledger token   add --data DIR --role ROLE --name NAME | list --data DIR | revoke --data DIR --name NAME
//	ledger verify  [STORE] [--against FILE [--key PUBFILE]]
//	ledger replay  [STORE] --practitioner ID [--as-of DATE] [--known-at TIME]
//	ledger import  [STORE] [--format csv|jsonl] [--recorded-by NAME] FILE
//	ledger export  [STORE] [--out FILE]
//	ledger migrate --from bolt|kurrentdb --to bolt|kurrentdb [--data DIR] --kurrentdb URL
//	ledger rebuild --data DIR
//	ledger key     show --data DIR
//	ledger checkpoint --data DIR [--out FILE]
//	ledger backup  --data DIR --to FILE
//	ledger restore --from FILE --data DIR
//	ledger erase   [STORE] --practitioner ID --reason TEXT
//
// STORE is --data DIR (the embedded store, the default) or --store kurrentdb
// --kurrentdb URL. migrate copies a ledger between the two, keeping every
// hash, and proves the copy identical.
//
// Signals, exit codes and the environment are handled here only; each
// subcommand is a file with its flags, its run function and its test.
//
// The command owns the wiring only: which store backend a data directory
// or a flag names, the data directory's files, and the choice between
// reading a store directly and going through a running server (with
// api/client). It is the one package that puts a store backend
// (eventstore/bolt, eventstore/kurrentdb) under the API; it may import any
// package of the module, and none may import it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
