package projections

import (
	"errors"
	"fmt"
	"time"

	"github.com/imattertraining/ledger/domain"
)

var (
	// ErrNotFound is returned when a query names a practitioner, stream or
	// decision the ledger does not hold (or did not hold at the time asked).
	// Such errors also carry domain's not_found code.
	ErrNotFound = errors.New("projections: not found")
	// ErrInvalidFilter is returned when a query's parameters are malformed:
	// an unknown standing, role or status, a level outside 0-5, a bad cursor,
	// a missing date. Such errors also carry domain's invalid code and name
	// the parameter at fault.
	ErrInvalidFilter = errors.New("projections: invalid filter")
	// ErrNotReady is returned by list queries before the models have been
	// loaded from a snapshot or built by Run.
	ErrNotReady = errors.New("projections: read models not built yet")
)

// queryError is a domain error (code, field and a message fit for a user)
// that also matches one of this package's sentinels.
type queryError struct {
	d        *domain.Error
	sentinel error
}

func (e *queryError) Error() string   { return e.d.Error() }
func (e *queryError) Unwrap() []error { return []error{e.d, e.sentinel} }

func notFound(what string, knownAt time.Time) error {
	msg := what + " not found"
	if !knownAt.IsZero() {
		msg = fmt.Sprintf("%s not found as known at %s", what, knownAt.UTC().Format(timeFormat))
	}
	return &queryError{d: domain.Errorf(domain.ENOTFOUND, "", "%s", msg), sentinel: ErrNotFound}
}

func invalid(field, format string, args ...any) error {
	return &queryError{d: domain.Errorf(domain.EINVALID, field, format, args...), sentinel: ErrInvalidFilter}
}
