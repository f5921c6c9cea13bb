package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
)

func runToken(_ context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("token needs add, list or revoke")
	}
	fs := e.newFlags("token " + args[0])
	dir := fs.String("data", "./data", "data `directory`")
	switch args[0] {
	case "add":
		role := fs.String("role", "", "admin, reviewer or auditor")
		name := fs.String("name", "", "the token's `name`, recorded as recorded_by on what it writes")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *role == "" || *name == "" {
			return usageError("token add needs --role and --name")
		}
		tok, err := auth.Open(*dir).Add(*name, api.Role(*role), 0)
		if err != nil {
			return err
		}
		// The token alone on stdout, so that TOKEN=$(ledger token add …) works.
		fmt.Fprintln(e.stdout, tok)
		fmt.Fprintf(e.stderr, "Token %q (%s) created; it is shown only now.\n", *name, *role)
		return nil
	case "list":
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		tokens := auth.Open(*dir)
		list, err := tokens.List()
		if err != nil {
			return err
		}
		retired, err := tokens.Retired()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tEXPIRES")
		for _, t := range list {
			exp := "-"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), exp)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(retired) > 0 {
			// Names never to be given again: what they wrote stays theirs.
			fmt.Fprintf(e.stderr, "%d retired names (revoked or expired; never reused):", len(retired))
			for _, r := range retired {
				fmt.Fprintf(e.stderr, " %s", r.Name)
			}
			fmt.Fprintln(e.stderr)
		}
		return nil
	case "revoke":
		name := fs.String("name", "", "the `name` of the token to revoke")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *name == "" {
			return usageError("token revoke needs --name")
		}
		if err := auth.Open(*dir).Revoke(*name); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Token %q revoked.\n", *name)
		return nil
	}
	return usageError("token needs add, list or revoke, not %q", args[0])
}
