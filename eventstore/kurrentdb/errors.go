package kurrentdb

import (
	"errors"
	"io"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errKind is what the adapter does about an error from the client.
type errKind int

const (
	// errFatal is returned to the caller as it is.
	errFatal errKind = iota
	// errTransient is retried with backoff: the node is unreachable, not the
	// leader, restarting, or too busy.
	errTransient
	// errClientDead is retried on a new client: the client library gave up
	// discovering a node and closed itself for good.
	errClientDead
	// errWrongExpectedVersion is an append's optimistic concurrency failure.
	errWrongExpectedVersion
	// errStreamNotFound is a read of a stream with no events.
	errStreamNotFound
	// errInvalidArgument is a request the server refused as malformed or too
	// large (gRPC InvalidArgument), including a read from a position that is
	// not the start of a record.
	errInvalidArgument
)

// esdbError finds the client library's *esdb.Error in err's chain.
//
// esdb.FromError is deliberately not used: it returns ok == false when there
// IS an error (ok means "no error"), and it only type-asserts err itself, so
// the *esdb.Error that the client wraps in "could not construct append
// operation. Reason: %w" reads as ErrorCodeUnknown. errors.As sees through
// the wrapping.
func esdbError(err error) (*esdb.Error, bool) {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// grpcCode finds a gRPC status code in err's chain (codes.Unknown if none).
func grpcCode(err error) codes.Code {
	var s interface{ GRPCStatus() *status.Status }
	if errors.As(err, &s) {
		return s.GRPCStatus().Code()
	}
	return codes.Unknown
}

// classify says what kind of failure err is.
func classify(err error) errKind {
	if err == nil {
		return errFatal
	}
	if e, ok := esdbError(err); ok {
		switch e.Code() {
		case esdb.ErrorCodeWrongExpectedVersion:
			return errWrongExpectedVersion
		case esdb.ErrorCodeResourceNotFound:
			if strings.Contains(e.Error(), "is not found") {
				return errStreamNotFound
			}
			return errFatal
		case esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted:
			return errTransient
		case esdb.ErrorCodeConnectionClosed:
			return errClientDead
		}
	}
	if errors.Is(err, io.EOF) {
		// A client stream's Send gives io.EOF when the server has already
		// ended the call, with a status the client then never reads (the
		// Go client wraps it as error code 0): the request was not taken,
		// and trying again (appends carry their event ids) finds out why.
		return errTransient
	}
	switch grpcCode(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		return errTransient
	case codes.InvalidArgument:
		return errInvalidArgument
	}
	return errFatal
}
