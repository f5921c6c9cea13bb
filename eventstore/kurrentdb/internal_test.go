package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// TestClientErrorTraps pins down how the client library reports what the
// adapter must recognise, using real client calls against the protocol
// double: esdb.FromError says ok == false when there IS an error, and it
// misses an *esdb.Error the client has wrapped; revisions count from 0.
func TestClientErrorTraps(t *testing.T) {
	srv, err := protocoldouble.Start(protocoldouble.Options{})
	require.NoError(t, err)
	defer srv.Close()
	cfg, err := esdb.ParseConnectionString(srv.ConnectionString())
	require.NoError(t, err)
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ev := func() esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}

	res, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev())
	require.NoError(t, err)
	assert.Equal(t, uint64(0), res.NextExpectedVersion, "the first event of a stream is revision 0")
	_, ok := esdb.FromError(nil)
	assert.True(t, ok, "FromError's ok means 'no error'")

	cases := []struct {
		name string
		run  func() error
		want errKind
	}{
		{"wrong expected version", func() error {
			_, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, ev())
			return err
		}, errWrongExpectedVersion},
		{"no stream on an existing stream", func() error {
			_, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev())
			return err
		}, errWrongExpectedVersion},
		{"stream not found", func() error {
			rs, err := c.ReadStream(ctx, "missing", esdb.ReadStreamOptions{}, 10)
			if err != nil {
				return err
			}
			defer rs.Close()
			_, err = rs.Recv()
			return err
		}, errStreamNotFound},
		{"unavailable, wrapped by the client", func() error {
			srv.FailNext(1, codes.Unavailable)
			_, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{}, ev())
			return err
		}, errTransient},
		{"invalid argument", func() error {
			_, err := c.AppendToStream(ctx, "big", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "T", Data: make([]byte, 2<<20)})
			return err
		}, errInvalidArgument},
		{"invalid $all position", func() error {
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Position{Commit: 1, Prepare: 1}}, 10)
			if err != nil {
				return err
			}
			defer rs.Close()
			_, err = rs.Recv()
			return err
		}, errInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			_, ok := esdb.FromError(err)
			assert.False(t, ok, "FromError's ok is false when there is an error")
			assert.Equal(t, tc.want, classify(err), "%v", err)
		})
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		metadata []byte
	}{
		{"none", nil},
		{"JSON with odd spacing", []byte("{ \"b\" :2,\n\"a\":1 }")},
		{"not UTF-8", []byte{0xff, 0xfe, '{', '}'}},
		{"escapes", []byte(`{"s":"<\"&\\/>"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, tc.metadata, "admin:Zoë Example", "2024-01-31")
		})
	}
}

func roundTrip(t *testing.T, metadata []byte, recordedBy, occurredOn string) {
	t.Helper()
	in := eventstore.RecordedEvent{
		ID: uuid.New(), Stream: "practitioner-1", Type: "CourseCompleted", SchemaVersion: 3,
		Revision: 4, RecordedAt: time.Date(2024, 2, 3, 4, 5, 6, 789, time.UTC),
		OccurredOn: occurredOn, RecordedBy: recordedBy, Data: []byte(`{}`), Metadata: metadata,
	}
	in.Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(in))
	meta, err := encodeEnvelope(in)
	require.NoError(t, err)
	out, err := decodeEvent("practitioner-1", &esdb.RecordedEvent{
		EventID: in.ID, EventType: in.Type, StreamID: "practitioner-1", EventNumber: 4,
		Position: esdb.Position{Commit: 99, Prepare: 99}, Data: in.Data, UserMetadata: meta,
	})
	require.NoError(t, err)
	assert.Equal(t, string(metadata), string(out.Metadata))
	assert.Equal(t, in.Hash, eventstore.ComputeHash(eventstore.ChainFieldsOf(out)), "the hash recomputes from what is read")
}

func FuzzEnvelopeRoundTrip(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "admin:x", "2024-01-01")
	f.Add([]byte{0xc3}, "", "")
	f.Fuzz(func(t *testing.T, metadata []byte, recordedBy, occurredOn string) {
		if !validUTF8(recordedBy) || !validUTF8(occurredOn) {
			t.Skip("Append refuses these")
		}
		roundTrip(t, metadata, recordedBy, occurredOn)
	})
}

func validUTF8(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return false
		}
	}
	return true
}

func TestPositions(t *testing.T) {
	cases := []struct {
		name string
		in   esdb.Position
		want eventstore.Position
		err  bool
	}{
		{"a self-committed event", esdb.Position{Commit: 4096, Prepare: 4096}, 4096, false},
		{"unknown to the server", esdb.Position{Commit: noPosition, Prepare: noPosition}, 0, true},
		{"the log's first record", esdb.Position{}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := positionOf(tc.in)
			assert.Equal(t, tc.err, err != nil, "%v", err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, esdb.AllPosition(esdb.Start{}), allPosition(eventstore.Start))
	assert.Equal(t, esdb.AllPosition(esdb.Position{Commit: 7, Prepare: 7}), allPosition(7))
}

// TestProtocolDoubleStaysInTests keeps the double out of the adapter's
// production code.
func TestProtocolDoubleStaysInTests(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	for _, imp := range pkg.Imports {
		assert.NotContains(t, imp, "protocoldouble")
		assert.NotContains(t, imp, "ledger/domain")
		assert.NotContains(t, imp, "ledger/projections")
		assert.NotContains(t, imp, "ledger/api")
	}
}

// TestClassifyEOF: a client stream whose server ended the call before the
// request was sent fails with io.EOF, which the Go client wraps with error
// code 0 (TestClientErrorTraps meets it now and then, when the protocol
// double's failure wins the race with the request's header). It is
// transient: the request was not taken.
func TestClassifyEOF(t *testing.T) {
	for _, err := range []error{
		io.EOF,
		fmt.Errorf("could not send append request header. Reason: %w", io.EOF),
	} {
		assert.Equal(t, errTransient, classify(err), "%v", err)
	}
	assert.Equal(t, errFatal, classify(errors.New("something else")))
}
