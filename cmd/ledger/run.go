package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usage = `ledger: the I Matter certification ledger

Usage:
  ledger serve   [--data DIR] [--addr ADDR] [--store bolt|kurrentdb] [--kurrentdb URL] [--demo]
                 [--rate N --burst N] [--trusted-proxy CIDR]... [--bootstrap-admin]
                 [--checkpoint-every DURATION] [--checkpoint-keep N] [--keys FILE]
  ledger token   add --data DIR --role admin|reviewer|auditor --name NAME
  ledger token   list --data DIR
  ledger token   revoke --data DIR --name NAME
  ledger verify  [STORE] [--against FILE [--key PUBFILE]]
  ledger replay  [STORE] --practitioner ID [--as-of DATE] [--known-at TIME]
  ledger import  [STORE] [--format csv|jsonl] [--recorded-by NAME] [--checkpoint FILE --key PUBFILE] FILE
  ledger export  [STORE] [--out FILE]
  ledger migrate --from bolt|kurrentdb --to bolt|kurrentdb [--data DIR] --kurrentdb URL
  ledger rebuild --data DIR
  ledger key     show --data DIR
  ledger checkpoint --data DIR [--out FILE]
  ledger backup  --data DIR --to FILE
  ledger restore --from FILE --data DIR
  ledger erase   [STORE] --practitioner ID --reason TEXT [--recorded-by NAME]

STORE is --data DIR (the embedded store, the default) or
--store kurrentdb --kurrentdb URL.

Read-only commands (verify, replay, export, token list) work while the
server runs: they read the embedded store directly when it is free, and
through the running server's API otherwise; KurrentDB is always read
directly. rebuild rebuilds the read models here when the store is free,
and asks the running server for an online rebuild otherwise.

erase erases a practitioner's personal data (crypto-shredding): it deletes
the key their name and email were sealed with (in DIR/personal-keys.jsonl),
records PersonalDataErased with the reason, and rewrites the read models'
snapshot; through the running server when one runs on DIR. Every chain
still verifies. export writes names and emails as stored: sealed.

migrate copies every event, keeping ids, recorded times, recorders and
hashes, then verifies the target and compares every stream's last hash
with the source's. The embedded store must not be in use by a server.
Run it again to resume an interrupted migration.

checkpoint signs every stream's head and the global position with the
ledger's key (key show prints its public half); keep checkpoints outside
the system. verify --against FILE then proves the store still extends
one: no event rewritten, nothing cut short or rolled back.

backup copies the store consistently (through the running server when
it holds the file) with the tokens, keys and checkpoints; restore
verifies the copy's hash chains first, into an empty or new directory.
`

// exitError carries an exit code other than 1 (or a failure already
// reported) up to Run.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Run runs the ledger command with args (without the program name) and
// returns its exit code: 0 on success, 1 on failure, 2 on a usage error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, env, rest)
	case "token":
		err = runToken(ctx, env, rest)
	case "verify":
		err = runVerify(ctx, env, rest)
	case "replay":
		err = runReplay(ctx, env, rest)
	case "import":
		err = runImport(ctx, env, rest)
	case "export":
		err = runExport(ctx, env, rest)
	case "migrate":
		err = runMigrate(ctx, env, rest)
	case "rebuild":
		err = runRebuild(ctx, env, rest)
	case "key":
		err = runKey(ctx, env, rest)
	case "checkpoint":
		err = runCheckpoint(ctx, env, rest)
	case "backup":
		err = runBackup(ctx, env, rest)
	case "restore":
		err = runRestore(ctx, env, rest)
	case "erase":
		err = runErase(ctx, env, rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ledger: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "ledger:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "ledger:", err)
	return 1
}

// env is what a subcommand may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// newFlags returns a flag set for subcommand name that reports to stderr.
func (e *env) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ledger "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses args into fs, mapping a usage mistake to exit code 2.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2}
	}
	return nil
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}
