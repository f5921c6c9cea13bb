package kurrentdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// withSystemEvents makes a protocol double (see package protocoldouble)
// write a server event after every third append, so that every test also
// checks that the adapter keeps the server's own streams out of the ledger.
var withSystemEvents = protocoldouble.Options{SystemEventEvery: 3}

// openStore opens a store that is closed when t ends.
func openStore(t testing.TB, url string, opts kurrentdb.Options) *kurrentdb.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := kurrentdb.Open(ctx, url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// isolated gives a store its own namespace and takes every stream in it as
// the ledger's, so that each conformance subtest sees an empty store even on
// a long-lived real server, whatever stream names the suite uses.
func isolated(opts kurrentdb.Options) kurrentdb.Options {
	opts.Namespace = "ledgertest-" + uuid.NewString() + "/"
	opts.StreamPrefixes = []string{""}
	return opts
}

func TestConformanceOnProtocolDouble(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openStore(t, protocoldouble.StartTest(t, withSystemEvents).ConnectionString(), isolated(kurrentdb.Options{}))
	})
}

// TestConformanceOnKurrentDB runs the suite against the server named by
// KURRENTDB_URL, a connection string such as
// esdb://localhost:2113?tls=false.
func TestConformanceOnKurrentDB(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL not set: skipping the conformance suite against a real KurrentDB")
	}
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openStore(t, url, isolated(kurrentdb.Options{}))
	})
}
